"""Pure booking logic: no I/O, no clock. `now` is always a parameter."""
