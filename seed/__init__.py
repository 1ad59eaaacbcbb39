"""Realistic demo and benchmark data, submitted through the real client."""
