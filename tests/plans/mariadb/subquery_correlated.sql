EXPLAIN FORMAT=JSON SELECT t.name, (SELECT COUNT(*) FROM djapp_member m WHERE m.team_id = t.id AND m.role = 'admin') AS n FROM djapp_team t
