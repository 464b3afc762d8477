// The booking page: date, location tags, sub-location dropdown, slot list, details, book.
"use strict";
const state = { auth: null, date: "", tags: new Set(), sub: null, slots: [] };
const $ = (id) => document.getElementById(id);

function subLocations() {
  const locations = SITE.locations.filter((l) => state.tags.size === 0 || state.tags.has(l.tagId));
  return locations.flatMap((l) => l.subLocations);
}

function renderTagDropdown() {
  const box = $("tag-dropdown");
  const typed = $("tag-filterinput").value.trim().toLowerCase();
  box.replaceChildren();
  for (const loc of SITE.locations) {
    if (typed && !loc.name.toLowerCase().includes(typed)) continue;
    const input = el("input", { type: "checkbox", id: "tagCheckbox" + loc.tagId, value: String(loc.tagId) });
    input.checked = state.tags.has(loc.tagId);
    input.addEventListener("change", () => {
      if (input.checked) state.tags.add(loc.tagId); else state.tags.delete(loc.tagId);
      if (state.sub && !subLocations().some((s) => s.id === state.sub)) setSub(null);
      $("selected-tags").textContent = SITE.locations.filter((l) => state.tags.has(l.tagId)).map((l) => l.name).join(", ");
      loadSlots();
    });
    const label = el("label", { for: input.id }, [input, document.createTextNode(" " + loc.name)]);
    box.appendChild(label);
  }
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

async function loadSlots() {
  if (!state.date) return;
  // Ask for a wide UTC range and keep the slots of the chosen local day.
  const day = new Date(state.date + "T00:00:00Z");
  const filter = {
    startDate: new Date(day.getTime() - 86400000).toISOString(),
    endDate: new Date(day.getTime() + 2 * 86400000).toISOString(),
  };
  if (state.tags.size) filter.tagIds = { $in: [...state.tags] };
  const answer = await api("/bookable-slots?s=" + encodeURIComponent(JSON.stringify(filter)));
  if (answer.status === 401) { goLogin(); return; }
  state.slots = ((answer.data && answer.data.data) || []).filter((s) => localParts(s.startDate).day === state.date);
  renderSlots();
}

function renderSlots() {
  const list = $("slot-list");
  list.replaceChildren();
  const shown = state.slots.filter((s) => state.sub === null || s.linkedProductId === state.sub);
  if (!shown.length) {
    list.appendChild(el("p", { class: "no-slots", text: "No bookable slots for this selection." }));
    return;
  }
  for (const slot of shown) {
    const full = !slot.isAvailable;
    const start = localParts(slot.startDate).time;
    const end = localParts(slot.endDate).time;
    const where = slot.product.name + (slot.linkedProduct ? " · " + slot.linkedProduct.name : "");
    const button = el("button", { class: "btn", type: "button", "data-test-id": "bookable-slot-book-button", text: "Book" });
    if (full) button.disabled = true;
    button.addEventListener("click", () => showDetails(slot));
    const left = slot.booking.capacity - slot.booking.participationCount;
    const spots = full
      ? el("div", { "data-test-id": "bookable-slot-spots-full", class: "spots-full", text: "Full" })
      : el("div", { class: "spots", text: left + (left === 1 ? " spot" : " spots") + " left" });
    const start_p = el("p", { "data-test-id": "bookable-slot-start-time" }, [el("strong", { text: start }), document.createTextNode(" – " + end)]);
    list.appendChild(el("div", {
      class: "bookable-slot" + (full ? " opacity-50" : ""), "data-booking-id": String(slot.bookingId),
      "data-sub-location": slot.linkedProduct ? slot.linkedProduct.name : "",
    }, [start_p, el("p", { class: "slot-location", text: where }), spots, button]));
  }
}

function showDetails(slot) {
  const box = $("slot-details");
  const when = localParts(slot.startDate);
  const where = slot.product.name + (slot.linkedProduct ? " · " + slot.linkedProduct.name : "");
  const book = el("button", { class: "btn", type: "button", "data-test-id": "details-book-button", text: "Book now" });
  box.replaceChildren(el("h2", { text: where }), el("p", { text: when.day + " " + when.time }), book);
  box.hidden = false;
  book.addEventListener("click", async () => {
    book.disabled = true;
    const answer = await api("/participations", { method: "POST", json: {
      memberId: state.auth.member.id, bookingId: slot.bookingId,
      params: { startDate: slot.startDate, endDate: slot.endDate, bookableProductId: slot.bookableProductId,
                bookableLinkedProductId: slot.linkedProductId, bookingId: slot.bookingId, clickedOnBook: true },
    } });
    if (answer.status === 201) {
      box.replaceChildren(
        el("i", { "data-test-id": "booking-success", class: "fa fa-check-circle", text: "✓" }),
        el("h2", { text: "Booking was made" }),
        el("p", { "data-test-id": "booking-participation-id", text: String(answer.data.id) }),
      );
    } else if (answer.status === 401) {
      goLogin();
      return;
    } else {
      const message = (answer.data && answer.data.message) || ("Booking failed (" + answer.status + ")");
      box.appendChild(el("p", { class: "alert alert-danger", "data-test-id": "booking-error", text: message }));
    }
    loadSlots();
  });
}

(async () => {
  state.auth = await requireLogin();
  if (!state.auth) return;
  const now = await api("/time");
  state.date = localParts(now.data ? now.data.now : new Date().toISOString()).day;
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
  await loadSlots();
})();
