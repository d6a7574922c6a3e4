EXPLAIN FORMAT=JSON SELECT m.id, t.name FROM djapp_member m JOIN djapp_team t ON m.team_id = t.id WHERE t.name = 'team3'
