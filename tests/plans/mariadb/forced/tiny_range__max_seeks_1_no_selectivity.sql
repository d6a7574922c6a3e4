SET STATEMENT max_seeks_for_key=1, optimizer_use_condition_selectivity=1 FOR EXPLAIN FORMAT=JSON SELECT * FROM tiny WHERE customer_id BETWEEN 1 AND 2
