CREATE TABLE "djapp_team" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NOT NULL);
CREATE TABLE "djapp_member" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "team_id" integer NOT NULL REFERENCES "djapp_team" ("id") DEFERRABLE INITIALLY DEFERRED, "customer_id" integer NOT NULL, "role" varchar(16) NOT NULL, "email" varchar(100) NOT NULL, "score" integer NOT NULL, "created" datetime NOT NULL);
CREATE INDEX "djapp_team_name_476df2a3" ON "djapp_team" ("name");
CREATE INDEX "djapp_member_team_id_a86f6480" ON "djapp_member" ("team_id");
CREATE INDEX "member_cust_role_idx" ON "djapp_member" ("customer_id", "role");
CREATE INDEX "member_email_idx" ON "djapp_member" ("email");
CREATE INDEX "member_created_desc_idx" ON "djapp_member" ("created" DESC);
CREATE INDEX "member_admin_idx" ON "djapp_member" ("customer_id") WHERE "role" = 'admin';
CREATE INDEX "member_upper_role_idx" ON "djapp_member" ((UPPER("role")));
