-- Run once by the postgres image's entrypoint, on the first start with an empty data volume
-- (files in /docker-entrypoint-initdb.d). The same role and databases as deploy/local/stack.sh
-- provisions: every service owns one database, all reached as the role strategy/strategy.
-- CREATEDB lets the integration tests create their throwaway databases.
CREATE ROLE strategy LOGIN CREATEDB PASSWORD 'strategy';
CREATE DATABASE projects OWNER strategy;
CREATE DATABASE indicators OWNER strategy;
CREATE DATABASE notifications OWNER strategy;
