// What the booking page draws: the location filter and the slot list, in the real site's markup
// (SITE.real) or the sandbox's classic one. booking.js owns the state and the requests.
"use strict";

function hallOf(slot) {
  const id = slot[SITE.hallField];
  for (const loc of SITE.locations) {
    const sub = loc.subLocations.find((s) => s.id === id);
    if (sub) return { location: loc, sub };
  }
  return null;
}

function placeOf(slot) {
  const hall = hallOf(slot);
  if (hall) return { location: hall.location, sub: hall.sub };
  const location = SITE.locations.find((l) => l.productId === slot.bookableProductId);
  return { location, sub: null };
}

function placeName(slot) {
  const place = placeOf(slot);
  const name = place.location ? place.location.name : "?";
  return name + (place.sub ? " · " + place.sub.name : "");
}

function tagBox(loc, onChange) {
  const input = el("input", { type: "checkbox", id: "tagCheckbox" + loc.tagId, value: String(loc.tagId) });
  input.checked = state.tags.has(loc.tagId);
  input.addEventListener("change", () => onChange(loc, input.checked));
  return el("label", { for: input.id }, [input, document.createTextNode(" " + loc.name)]);
}

// Classic: every matching location's checkbox right away.
function renderTagsClassic(box, matching, onChange) {
  for (const loc of matching) box.appendChild(tagBox(loc, onChange));
}

// Real: halls sit in an "All spaces" group that has to be expanded before their boxes exist.
function renderTagsReal(box, matching, onChange) {
  const tree = el("ul", { class: "tag-tree" });
  for (const loc of matching.filter((l) => !l.subLocations.length)) {
    tree.appendChild(el("li", {}, [tagBox(loc, onChange)]));
  }
  const halls = matching.filter((l) => l.subLocations.length);
  if (halls.length) {
    const group = el("li", { tabindex: "0", class: "tag-group" + (state.spacesOpen ? " open" : "") },
      [el("span", { text: "All spaces" })]);
    const toggle = (e) => { e.stopPropagation(); state.spacesOpen = !state.spacesOpen; renderTagDropdown(); };
    group.addEventListener("click", toggle);
    group.addEventListener("keydown", (e) => { if (e.key === "Enter") toggle(e); });
    tree.appendChild(group);
    if (state.spacesOpen) {
      tree.appendChild(el("ul", { class: "tag-group-items" }, halls.map((loc) => el("li", {}, [tagBox(loc, onChange)]))));
    }
  }
  box.appendChild(tree);
}

function renderTagDropdown() {
  const box = $("tag-dropdown");
  const typed = $("tag-filterinput").value.trim().toLowerCase();
  box.replaceChildren();
  const matching = SITE.locations.filter((loc) => !typed || loc.name.toLowerCase().includes(typed));
  (SITE.real ? renderTagsReal : renderTagsClassic)(box, matching, tagChanged);
}

function slotState(slot) {
  const start = Date.parse(slot.startDate);
  const place = placeOf(slot);
  const ahead = place.location ? place.location.windowMinutes * 60000 : 0;
  // A slot listed before its unlock is not full, it is not open yet.
  const opensAt = SITE.localZ ? null : start - ahead;
  const notOpen = SITE.real && opensAt !== null && opensAt > sandboxNow();
  const booking = slot.booking;
  const full = !notOpen && (booking ? booking.participationCount >= booking.capacity : !slot.isAvailable);
  return { notOpen, full, opensAt };
}

function spotsOf(slot, s) {
  if (s.full) return el("div", { "data-test-id": "bookable-slot-spots-full", class: "spots-full", text: "Full" });
  if (s.notOpen) return el("div", { class: "spots", text: "Opens " + localParts(new Date(s.opensAt).toISOString()).time });
  if (!slot.booking) return el("div", { class: "spots", text: "Available" });
  const left = slot.booking.capacity - slot.booking.participationCount;
  return el("div", { class: "spots", text: left + (left === 1 ? " spot" : " spots") + " left" });
}

function slotBody(slot, s) {
  const button = el("button", { class: "btn", type: "button", "data-test-id": "bookable-slot-book-button", text: "Book" });
  if (s.full || s.notOpen) button.disabled = true;
  button.addEventListener("click", () => showDetails(slot));
  const start = el("p", { "data-test-id": "bookable-slot-start-time" }, [
    el("strong", { text: slotParts(slot.startDate).time }),
    document.createTextNode(" – " + slotParts(slot.endDate).time)]);
  return [start, el("p", { class: "slot-location", text: placeName(slot) }), spotsOf(slot, s), button];
}

// Classic: one list container of `.bookable-slot` items, each with its bookingId.
function renderSlotsClassic(list, shown) {
  for (const slot of shown) {
    const s = { full: !slot.isAvailable, notOpen: false };
    const place = placeOf(slot);
    list.appendChild(el("div", {
      class: "bookable-slot" + (s.full ? " opacity-50" : ""), "data-booking-id": String(slot.bookingId),
      "data-sub-location": place.sub ? place.sub.name : "",
    }, slotBody(slot, s)));
  }
}

// Real: each slot is a container of its own.
function renderSlotsReal(list, shown) {
  for (const slot of shown) {
    const s = slotState(slot);
    const card = el("div", { class: "slot-card" }, slotBody(slot, s));
    list.appendChild(el("div", {
      "data-test-id": "bookable-slot-list", class: "slot-container" + (s.full || s.notOpen ? " opacity-50" : ""),
    }, [card]));
  }
}

function renderSlots() {
  const list = $("slot-list");
  list.replaceChildren();
  const shown = state.slots.filter((s) => {
    if (state.sub === null) return true;
    const hall = hallOf(s);
    return hall !== null && hall.sub.id === state.sub;
  });
  if (!shown.length) {
    list.appendChild(el("p", { class: "no-slots", text: "No bookable slots for this selection." }));
    return;
  }
  (SITE.real ? renderSlotsReal : renderSlotsClassic)(list, shown);
}
