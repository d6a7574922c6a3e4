EXPLAIN QUERY PLAN SELECT t.name, m.id FROM djapp_team t LEFT JOIN djapp_member m ON m.team_id = t.id AND m.role = 'admin'
