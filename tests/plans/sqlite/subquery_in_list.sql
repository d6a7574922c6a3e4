EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE score IN (SELECT id FROM djapp_team WHERE name LIKE 'team1%')
