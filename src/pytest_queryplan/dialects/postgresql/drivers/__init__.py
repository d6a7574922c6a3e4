"""The runners that send a backend's statements on the Django connection's own driver
connection (psycopg 3, psycopg2), and what they remember of the server's parsing."""
