"""Simulations of what production's engines do: ranking, agent replies, webhook sending."""
