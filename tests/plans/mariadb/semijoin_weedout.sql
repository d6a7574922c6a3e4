EXPLAIN FORMAT=JSON SELECT * FROM djapp_team t WHERE t.id IN (SELECT m.team_id FROM djapp_member m WHERE m.score > 900)
