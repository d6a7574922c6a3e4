EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE id = (SELECT MAX(id) FROM djapp_team)
