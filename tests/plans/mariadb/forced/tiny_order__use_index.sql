EXPLAIN FORMAT=JSON SELECT * FROM tiny USE INDEX (member_created_desc_idx) ORDER BY created DESC LIMIT 2
