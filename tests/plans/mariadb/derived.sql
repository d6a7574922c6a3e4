EXPLAIN FORMAT=JSON SELECT x.customer_id, x.n FROM (SELECT customer_id, COUNT(*) AS n FROM djapp_member GROUP BY customer_id) x WHERE x.n > 5
