"""Pure rules: plain functions and data, no I/O and no framework imports."""
