"""Thin HTTP views: they read requests, call services and render."""
