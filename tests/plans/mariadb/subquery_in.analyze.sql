ANALYZE FORMAT=JSON SELECT * FROM djapp_member WHERE team_id IN (SELECT id FROM djapp_team WHERE name LIKE 'team1%')
