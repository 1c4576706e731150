"""Settings split by environment: `base` (shared), `dev`, `test`, `prod`.

Choose one with DJANGO_SETTINGS_MODULE; every secret and host comes from the environment.
"""
