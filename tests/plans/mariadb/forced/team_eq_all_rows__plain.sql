EXPLAIN FORMAT=JSON SELECT * FROM djapp_member WHERE team_id >= 0
