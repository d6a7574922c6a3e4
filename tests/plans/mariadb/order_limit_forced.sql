EXPLAIN FORMAT=JSON SELECT * FROM djapp_member FORCE INDEX (member_created_desc_idx) ORDER BY created DESC LIMIT 10
