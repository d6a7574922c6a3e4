EXPLAIN QUERY PLAN SELECT team_id FROM djapp_member WHERE customer_id = 1 INTERSECT SELECT id FROM djapp_team
