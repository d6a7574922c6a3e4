EXPLAIN FORMAT=JSON SELECT customer_id, COUNT(*) FROM djapp_member GROUP BY customer_id
