EXPLAIN QUERY PLAN SELECT * FROM djapp_team t WHERE EXISTS (SELECT 1 FROM djapp_member m WHERE m.team_id = t.id AND m.score > 990)
