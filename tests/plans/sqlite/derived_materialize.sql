EXPLAIN QUERY PLAN SELECT x.role, COUNT(*) FROM (SELECT DISTINCT role, score FROM djapp_member) x JOIN djapp_team t ON t.id = x.score GROUP BY x.role
