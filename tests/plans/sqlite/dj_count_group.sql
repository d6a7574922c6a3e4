EXPLAIN QUERY PLAN SELECT "djapp_member"."role" AS "role", COUNT("djapp_member"."id") AS "n" FROM "djapp_member" GROUP BY 1
