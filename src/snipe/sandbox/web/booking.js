// The booking page (also the app's landing page): date, location tags, sub-location dropdown,
// slot list, details, book; and the member's own bookings. Requests are the real web app's.
"use strict";
const state = { auth: null, date: "", tags: new Set(), sub: null, slots: [], spacesOpen: false, clock: null };
const $ = (id) => document.getElementById(id);

// Sandbox time now, from the server's clock read at load and the time elapsed since.
function sandboxNow() {
  return state.clock ? state.clock.at + (performance.now() - state.clock.read) : Date.now();
}

function subLocations() {
  const locations = SITE.locations.filter((l) => state.tags.size === 0 || state.tags.has(l.tagId));
  return locations.flatMap((l) => l.subLocations);
}

function tagChanged(loc, checked) {
  if (checked) state.tags.add(loc.tagId); else state.tags.delete(loc.tagId);
  if (state.sub && !subLocations().some((s) => s.id === state.sub)) setSub(null);
  $("selected-tags").textContent = SITE.locations.filter((l) => state.tags.has(l.tagId)).map((l) => l.name).join(", ");
  loadSlots();
}

function openTags() { renderTagDropdown(); $("tag-dropdown").hidden = false; }
function closeTags() { $("tag-dropdown").hidden = true; }

function setSub(id) {
  state.sub = id;
  const found = subLocations().find((s) => s.id === id);
  $("sub-location-value").textContent = found ? found.name : "All sub-locations";
}

function renderSubPanel() {
  const panel = $("sub-location-panel");
  panel.replaceChildren();
  const all = el("div", { class: "ng-option", role: "option", text: "All sub-locations" });
  all.addEventListener("click", (e) => { e.stopPropagation(); setSub(null); panel.hidden = true; renderSlots(); });
  panel.appendChild(all);
  for (const sub of subLocations()) {
    const option = el("div", { class: "ng-option", role: "option", "data-id": String(sub.id), text: sub.name });
    option.addEventListener("click", (e) => { e.stopPropagation(); setSub(sub.id); panel.hidden = true; renderSlots(); });
    panel.appendChild(option);
  }
}

function query(filter, joins) {
  const parts = ["s=" + encodeURIComponent(JSON.stringify(filter))];
  for (const j of joins) parts.push("join=" + encodeURIComponent(j));
  return parts.join("&");
}

async function loadSlots() {
  if (!state.date) return;
  // Ask for a wide range and keep the slots of the chosen local day.
  const day = new Date(state.date + "T00:00:00Z");
  const from = new Date(day.getTime() - 86400000).toISOString();
  const filter = {
    startDate: from, endDate: new Date(day.getTime() + 2 * 86400000).toISOString(),
    availableFromDate: { $gt: new Date(sandboxNow()).toISOString() }, availableTillDate: { $gte: from },
  };
  if (state.tags.size) filter.tagIds = { $in: [...state.tags] };
  const joins = ["linkedProduct", "product", "product.translations", "booking"];
  const answer = await api("/bookable-slots?" + query(filter, joins));
  if (answer.status === 401) { goLogin(); return; }
  state.slots = ((answer.data && answer.data.data) || []).filter((s) => slotParts(s.startDate).day === state.date);
  renderSlots();
}

function bookingBody(slot) {
  return {
    memberId: state.auth.member.id, bookingId: slot.bookingId, organizationId: null,
    params: {
      startDate: slot.startDate, endDate: slot.endDate, bookableProductId: slot.bookableProductId,
      bookableLinkedProductId: slot.linkedProductId, bookingId: slot.bookingId, clickedOnBook: true,
      invitedMemberEmails: [], invitedGuests: [], invitedOthers: [],
    },
  };
}

function showOutcome(box, answer) {
  if (answer.status === 201 && answer.data.status === 3) {
    box.replaceChildren(el("h4", { "data-test-id": "booking-waitlist", text: "You are on the waitlist" }));
  } else if (answer.status === 201) {
    const made = [
      el("i", { "data-test-id": "booking-success", class: "fa fa-check-circle" }),
      el("h4", { text: "Booking was made" }),
    ];
    if (!SITE.real) made.push(el("p", { "data-test-id": "booking-participation-id", text: String(answer.data.id) }));
    box.replaceChildren(...made);
  } else {
    const message = messageOf(answer) || ("Booking failed (" + answer.status + ")");
    box.appendChild(el("p", { class: "alert alert-danger", "data-test-id": "booking-error", text: message }));
  }
}

function showDetails(slot) {
  const box = $("slot-details");
  const when = slotParts(slot.startDate);
  const book = el("button", { class: "btn", type: "button", "data-test-id": "details-book-button", text: "Book now" });
  box.replaceChildren(el("h2", { text: placeName(slot) }), el("p", { text: when.day + " " + when.time }), book);
  box.hidden = false;
  book.addEventListener("click", async () => {
    book.disabled = true;
    const answer = await api("/participations", { method: "POST", json: bookingBody(slot) });
    if (answer.status === 401) { goLogin(); return; }
    showOutcome(box, answer);
    loadSlots();
    loadMine();
  });
}

async function loadMine() {
  const since = new Date(sandboxNow() - 86400000).toISOString();
  const id = state.auth.member.id;
  const filter = { $or: [{ memberId: id }, { invitedMemberId: id }], "booking.startDate": { $gte: since } };
  const mine = await api("/participations?" + query(filter, ["booking"]) + "&sort=booking.startDate,ASC");
  const list = $("my-bookings");
  list.replaceChildren();
  for (const p of (mine.data && mine.data.data) || []) {
    if (!p.booking) continue;
    const at = slotParts(p.booking.startDate);
    const waiting = p.status === 3 ? " (waitlist)" : "";
    list.appendChild(el("li", { "data-participation-id": String(p.id), text: at.day + " " + at.time + " " + p.booking.description + waiting }));
  }
}

(async () => {
  state.auth = await requireLogin();
  if (!state.auth) return;
  const now = await api("/time");
  const nowIso = now.data ? now.data.now : new Date().toISOString();
  state.clock = { at: Date.parse(nowIso), read: performance.now() };
  state.date = localParts(nowIso).day;
  $("member-name").textContent = state.auth.member.firstName + " " + (state.auth.member.lastName || "");
  $("member-line").hidden = false;
  $("logout-button").onclick = goLogin;
  if (!SITE.real) $("slot-list").setAttribute("data-test-id", "bookable-slot-list");
  const date = $("date-input");
  date.value = state.date;
  date.addEventListener("change", () => { state.date = date.value; $("slot-details").hidden = true; loadSlots(); });
  const filter = $("tag-filterinput");
  filter.addEventListener("focus", openTags);
  filter.addEventListener("click", openTags);
  filter.addEventListener("input", openTags);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { closeTags(); $("sub-location-panel").hidden = true; }
  });
  const select = $("sub-location-select");
  select.addEventListener("click", () => {
    const panel = $("sub-location-panel");
    if (panel.hidden) renderSubPanel();
    panel.hidden = !panel.hidden;
  });
  $("refresh-slots").addEventListener("click", loadSlots);
  $("booking-page").hidden = false;
  await Promise.all([loadSlots(), loadMine()]);
})();
