"""The JSON API under /api/v1: public purposes, a member's own data, and admin views."""
