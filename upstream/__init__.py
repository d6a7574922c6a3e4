"""The worked example: a Django app whose hot queries must keep their indexes."""
