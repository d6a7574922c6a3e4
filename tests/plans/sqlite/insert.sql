EXPLAIN QUERY PLAN INSERT INTO djapp_team (name) VALUES ('new')
