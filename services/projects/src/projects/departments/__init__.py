"""Responsible departments (РОИВ) and the coordinators who receive a region's alerts."""
