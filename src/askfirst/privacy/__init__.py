"""Differential privacy with the member as the privacy unit: bounding, mechanisms, audits."""
