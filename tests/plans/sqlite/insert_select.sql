EXPLAIN QUERY PLAN INSERT INTO djapp_team (name) SELECT email FROM djapp_member WHERE customer_id = 1
