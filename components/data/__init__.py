"""Data: the ADLS Gen2 data lake and the PostgreSQL Flexible Server."""
