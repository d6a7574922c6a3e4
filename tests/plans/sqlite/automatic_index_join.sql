EXPLAIN QUERY PLAN SELECT m.id, m2.id FROM djapp_member m JOIN djapp_member m2 ON m2.score = m.score
