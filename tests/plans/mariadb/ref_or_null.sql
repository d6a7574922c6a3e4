EXPLAIN FORMAT=JSON SELECT * FROM djapp_team WHERE name = 'team1' OR name IS NULL
