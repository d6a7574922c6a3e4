SET STATEMENT max_seeks_for_key=1 FOR EXPLAIN FORMAT=JSON SELECT * FROM djapp_member WHERE team_id >= 0
