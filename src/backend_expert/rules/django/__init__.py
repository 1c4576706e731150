"""Django and DRF rules."""
