"""Use cases. One function, one unit of work; they return plain data and raise SnipeError."""
