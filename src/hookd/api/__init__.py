"""HTTP edge: validate, call a service, serialize. No business rules live here."""
