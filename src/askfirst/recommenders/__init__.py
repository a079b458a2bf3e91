"""Recommenders: the emoji suggester and the channel recommender, fitted from DP counts."""
