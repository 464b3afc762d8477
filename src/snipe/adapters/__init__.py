"""Everything that touches the outside world: database, sites, clock, scheduler, notifications."""
