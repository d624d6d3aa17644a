-- Written by `manage.py write_fresh_sqlite` (see lookups/management/fresh_sqlite.py).
BEGIN TRANSACTION;
CREATE TABLE "auth_group" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE);
CREATE TABLE "auth_group_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "auth_permission" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "codename" varchar(100) NOT NULL, "name" varchar(255) NOT NULL);
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL);
CREATE TABLE "auth_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "auth_user_user_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "axes_accessattempt" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_agent" varchar(255) NOT NULL, "ip_address" char(39) NULL, "username" varchar(255) NULL, "http_accept" varchar(1025) NOT NULL, "path_info" varchar(255) NOT NULL, "attempt_time" datetime NOT NULL, "get_data" text NOT NULL, "post_data" text NOT NULL, "failures_since_start" integer unsigned NOT NULL CHECK ("failures_since_start" >= 0));
CREATE TABLE "axes_accessattemptexpiration" ("access_attempt_id" integer NOT NULL PRIMARY KEY REFERENCES "axes_accessattempt" ("id") DEFERRABLE INITIALLY DEFERRED, "expires_at" datetime NOT NULL);
CREATE TABLE "axes_accessfailurelog" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_agent" varchar(255) NOT NULL, "ip_address" char(39) NULL, "username" varchar(255) NULL, "http_accept" varchar(1025) NOT NULL, "path_info" varchar(255) NOT NULL, "attempt_time" datetime NOT NULL, "locked_out" bool NOT NULL);
CREATE TABLE "axes_accesslog" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_agent" varchar(255) NOT NULL, "ip_address" char(39) NULL, "username" varchar(255) NULL, "http_accept" varchar(1025) NOT NULL, "path_info" varchar(255) NOT NULL, "attempt_time" datetime NOT NULL, "logout_time" datetime NULL, "session_hash" varchar(64) NOT NULL);
CREATE TABLE "django_admin_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "object_id" text NULL, "object_repr" varchar(200) NOT NULL, "action_flag" smallint unsigned NOT NULL CHECK ("action_flag" >= 0), "change_message" text NOT NULL, "content_type_id" integer NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "action_time" datetime NOT NULL);
CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL);
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL);
CREATE TABLE "django_tasks_database_dbtaskresult" ("id" char(32) NOT NULL PRIMARY KEY, "args_kwargs" text NOT NULL CHECK ((JSON_VALID("args_kwargs") OR "args_kwargs" IS NULL)), "priority" integer NOT NULL, "task_path" text NOT NULL, "queue_name" varchar(32) NOT NULL, "backend_name" varchar(32) NOT NULL, "run_after" datetime NOT NULL, "enqueued_at" datetime NOT NULL, "finished_at" datetime NULL, "started_at" datetime NULL, "return_value" text NULL CHECK ((JSON_VALID("return_value") OR "return_value" IS NULL)), "exception_class_path" text NOT NULL, "traceback" text NOT NULL, "worker_ids" text NOT NULL CHECK ((JSON_VALID("worker_ids") OR "worker_ids" IS NULL)), "status" varchar(10) NOT NULL, CONSTRAINT "priority_range" CHECK ("priority" BETWEEN -100 AND 100));
CREATE TABLE "lookups_adaptydelivery" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created_at" datetime NOT NULL, "customer_user_id" varchar(100) NOT NULL, "outcome" varchar(16) NOT NULL, "attempts" smallint unsigned NOT NULL CHECK ("attempts" >= 0), "http_status" smallint unsigned NULL CHECK ("http_status" >= 0), "error_code" varchar(100) NOT NULL, "error_message" text NOT NULL, "request_id" varchar(100) NOT NULL, "settled_at" datetime NULL, "agent_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "token_change_id" bigint NOT NULL REFERENCES "lookups_tokenchange" ("id") DEFERRABLE INITIALLY DEFERRED, "attempt" smallint unsigned NOT NULL CHECK ("attempt" >= 0), "not_before" datetime NULL, "sent_at" datetime NULL);
CREATE TABLE "lookups_app" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL UNIQUE, "bundle_id" varchar(155) NOT NULL UNIQUE, "app_apple_id" bigint NULL, "uses_production" bool NOT NULL, "uses_sandbox" bool NOT NULL, "issuer_id" varchar(64) NOT NULL, "key_id" varchar(32) NOT NULL, "private_key_source" varchar(300) NOT NULL, "follows_settings" bool NOT NULL, "rate_limits" text NOT NULL CHECK ((JSON_VALID("rate_limits") OR "rate_limits" IS NULL)), "created_at" datetime NOT NULL, "adapty_key_source" varchar(300) NOT NULL);
CREATE TABLE "lookups_app_limited_agents" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app_id" bigint NOT NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_applepause" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "scope" varchar(300) NOT NULL, "endpoint" varchar(64) NOT NULL, "until" datetime NOT NULL, CONSTRAINT "applepause_one_per_endpoint" UNIQUE ("scope", "endpoint"));
CREATE TABLE "lookups_appstorenotification" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "notification_uuid" varchar(64) NOT NULL UNIQUE, "environment" varchar(16) NOT NULL, "notification_type" varchar(64) NOT NULL, "subtype" varchar(64) NOT NULL, "signed_date" datetime NULL, "original_transaction_id" varchar(64) NOT NULL, "payload" text NOT NULL CHECK ((JSON_VALID("payload") OR "payload" IS NULL)), "transaction" text NULL CHECK ((JSON_VALID("transaction") OR "transaction" IS NULL)), "renewal_info" text NULL CHECK ((JSON_VALID("renewal_info") OR "renewal_info" IS NULL)), "received_at" datetime NOT NULL, "received_from" varchar(16) NOT NULL, "state" varchar(16) NOT NULL, "processed_at" datetime NULL, "outcome" varchar(300) NOT NULL, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_auditchainhead" ("id" smallint unsigned NOT NULL PRIMARY KEY CHECK ("id" >= 0), "last_sequence" bigint unsigned NOT NULL CHECK ("last_sequence" >= 0), "last_hash" varchar(64) NOT NULL, CONSTRAINT "auditchainhead_one_row" CHECK ("id" = 1));
CREATE TABLE "lookups_auditcheck" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "started_at" datetime NOT NULL, "finished_at" datetime NULL, "outcome" varchar(8) NOT NULL, "head_sequence" bigint unsigned NULL CHECK ("head_sequence" >= 0), "head_hash" varchar(64) NOT NULL, "message" text NOT NULL, "started_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE lookups_auditlogflush (reason varchar(100) NOT NULL);
CREATE TABLE "lookups_consumptionanswer" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "by_policy" bool NOT NULL, "created_at" datetime NOT NULL, "body" text NOT NULL CHECK ((JSON_VALID("body") OR "body" IS NULL)), "outcome" varchar(16) NOT NULL, "error_code" integer NULL, "error_message" text NOT NULL, "settled_at" datetime NULL, "answered_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "refund_request_id" bigint NOT NULL REFERENCES "lookups_refundrequest" ("id") DEFERRABLE INITIALLY DEFERRED, "chain_hash" varchar(64) NOT NULL, "chain_previous_hash" varchar(64) NOT NULL, "chain_sequence" bigint unsigned NULL UNIQUE CHECK ("chain_sequence" >= 0), "environment" varchar(16) NOT NULL, "transaction_id" varchar(64) NOT NULL, "answered_by_username" varchar(150) NULL, "chain_version" smallint unsigned NULL CHECK ("chain_version" >= 0), "request_id" char(32) NULL, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, "app_bundle_id" varchar(155) NULL, CONSTRAINT "consumptionanswer_by_someone_or_the_policy" CHECK ((("answered_by_id" IS NULL AND "by_policy" = 1) OR ("answered_by_id" IS NOT NULL AND "by_policy" = 0))), CONSTRAINT "consumptionanswer_chained_iff_settled" CHECK ((("chain_hash" = '' AND "chain_previous_hash" = '' AND "chain_sequence" IS NULL AND "outcome" = 'pending' AND "settled_at" IS NULL) OR ("chain_sequence" IS NOT NULL AND "outcome" IN ('succeeded', 'failed', 'unconfirmed') AND "settled_at" IS NOT NULL AND NOT ("chain_previous_hash" = '') AND NOT ("chain_hash" = '')))));
CREATE TABLE "lookups_consumptionanswerfollowup" ("answer_id" bigint NOT NULL PRIMARY KEY REFERENCES "lookups_consumptionanswer" ("id") DEFERRABLE INITIALLY DEFERRED, "created_at" datetime NOT NULL, "checks" integer unsigned NOT NULL CHECK ("checks" >= 0), "last_checked_at" datetime NULL, "last_error" text NOT NULL, "next_check_at" datetime NULL, "gave_up_at" datetime NULL);
CREATE TABLE "lookups_customeraccount" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "external_id" varchar(100) NOT NULL UNIQUE, "email" varchar(254) NOT NULL, "display_name" varchar(200) NOT NULL, "app_account_token" char(32) NOT NULL UNIQUE, "adapty_customer_user_id" varchar(100) NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL);
CREATE TABLE "lookups_customernote" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created_at" datetime NOT NULL, "ticket_reference" varchar(100) NOT NULL, "text" text NOT NULL, "edited_at" datetime NULL, "account_id" bigint NOT NULL REFERENCES "lookups_customeraccount" ("id") DEFERRABLE INITIALLY DEFERRED, "author_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "edited_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_customernoterevision" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "text" text NOT NULL, "ticket_reference" varchar(100) NOT NULL, "written_at" datetime NOT NULL, "replaced_at" datetime NOT NULL, "note_id" bigint NOT NULL REFERENCES "lookups_customernote" ("id") DEFERRABLE INITIALLY DEFERRED, "written_by_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_customervisit" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "visited_at" datetime NOT NULL, "account_id" bigint NOT NULL REFERENCES "lookups_customeraccount" ("id") DEFERRABLE INITIALLY DEFERRED, "agent_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "visit_one_per_agent" UNIQUE ("agent_id", "account_id"));
CREATE TABLE "lookups_dailytally" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "day" date NOT NULL, "source" varchar(16) NOT NULL, "agent_id" bigint NOT NULL, "outcome" varchar(16) NOT NULL, "error_code" integer NOT NULL, "offer_code" bool NOT NULL, "row_count" bigint NOT NULL, "app_id" bigint NOT NULL, "environment" varchar(16) NOT NULL, CONSTRAINT "dailytally_key" UNIQUE ("source", "day", "agent_id", "outcome", "error_code", "offer_code", "app_id", "environment"));
CREATE TABLE "lookups_export" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created_at" datetime NOT NULL, "table" varchar(32) NOT NULL, "filters" text NOT NULL CHECK ((JSON_VALID("filters") OR "filters" IS NULL)), "row_count" integer unsigned NULL CHECK ("row_count" >= 0), "finished_at" datetime NULL, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_lookup" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created_at" datetime NOT NULL, "kind" varchar(16) NOT NULL, "order_id" varchar(32) NOT NULL, "transaction_id" varchar(64) NOT NULL, "history_version" smallint unsigned NULL CHECK ("history_version" >= 0), "environment" varchar(16) NOT NULL, "outcome" varchar(16) NOT NULL, "error_code" integer NULL, "error_message" text NOT NULL, "duration_ms" integer unsigned NOT NULL CHECK ("duration_ms" >= 0), "transactions" text NOT NULL CHECK ((JSON_VALID("transactions") OR "transactions" IS NULL)), "agent_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_outagecompensation" ("error_code" integer NULL, "error_message" text NOT NULL, "settled_at" datetime NULL, "chain_sequence" bigint unsigned NULL UNIQUE CHECK ("chain_sequence" >= 0), "chain_previous_hash" varchar(64) NOT NULL, "chain_hash" varchar(64) NOT NULL, "id" char(32) NOT NULL PRIMARY KEY, "created_at" datetime NOT NULL, "environment" varchar(16) NOT NULL, "product_id" varchar(200) NOT NULL, "storefronts" varchar(1000) NOT NULL, "extend_by_days" smallint unsigned NOT NULL CHECK ("extend_by_days" >= 0), "reason_code" smallint unsigned NOT NULL CHECK ("reason_code" >= 0), "note" text NOT NULL, "approved_at" datetime NULL, "accepted_at" datetime NULL, "outcome" varchar(24) NOT NULL, "succeeded_count" integer unsigned NULL CHECK ("succeeded_count" >= 0), "failed_count" integer unsigned NULL CHECK ("failed_count" >= 0), "completed_at" datetime NULL, "failures_notified" integer unsigned NOT NULL CHECK ("failures_notified" >= 0), "approved_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "requested_by_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "approved_by_username" varchar(150) NULL, "chain_version" smallint unsigned NULL CHECK ("chain_version" >= 0), "requested_by_username" varchar(150) NULL, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, "app_bundle_id" varchar(155) NULL, CONSTRAINT "outage_days_1_to_90" CHECK (("extend_by_days" >= 1 AND "extend_by_days" <= 90)), CONSTRAINT "outage_chained_iff_settled" CHECK ((("chain_hash" = '' AND "chain_previous_hash" = '' AND "chain_sequence" IS NULL AND "outcome" IN ('awaiting_approval', 'pending') AND "settled_at" IS NULL) OR ("chain_sequence" IS NOT NULL AND "outcome" IN ('succeeded', 'failed', 'rejected') AND "settled_at" IS NOT NULL AND NOT ("chain_previous_hash" = '') AND NOT ("chain_hash" = '')))));
CREATE TABLE "lookups_outagecompensationfollowup" ("created_at" datetime NOT NULL, "checks" integer unsigned NOT NULL CHECK ("checks" >= 0), "last_checked_at" datetime NULL, "last_error" text NOT NULL, "next_check_at" datetime NULL, "gave_up_at" datetime NULL, "compensation_id" char(32) NOT NULL PRIMARY KEY REFERENCES "lookups_outagecompensation" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "display_name" varchar(200) NOT NULL, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, "product_id" varchar(200) NOT NULL);
CREATE TABLE "lookups_purchase" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "environment" varchar(16) NOT NULL, "original_transaction_id" varchar(64) NOT NULL, "latest_transaction" text NOT NULL CHECK ((JSON_VALID("latest_transaction") OR "latest_transaction" IS NULL)), "product_id" varchar(200) NOT NULL, "app_account_token" char(32) NULL, "order_id" varchar(32) NOT NULL, "learnt_at" datetime NOT NULL, "learnt_from" varchar(16) NOT NULL, "auto_renew" bool NULL, "expiration_intent" smallint unsigned NULL CHECK ("expiration_intent" >= 0), "grace_period_ends_at" datetime NULL, "next_renewal_date" datetime NULL, "next_renewal_product_id" varchar(200) NOT NULL, "renewal_info" text NULL CHECK ((JSON_VALID("renewal_info") OR "renewal_info" IS NULL)), "revocation_date" datetime NULL, "revocation_reason" smallint unsigned NULL CHECK ("revocation_reason" >= 0), "status" varchar(16) NOT NULL, "status_learnt_at" datetime NULL, "status_signed_at" datetime NULL, "status_source" varchar(16) NOT NULL, "offer_code_told_at" datetime NULL, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "purchase_one_per_environment" UNIQUE ("environment", "original_transaction_id"));
CREATE TABLE "lookups_quarantinednotification" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "received_at" datetime NOT NULL, "reason" varchar(300) NOT NULL, "body" text NOT NULL, "body_length" integer unsigned NOT NULL CHECK ("body_length" >= 0), "source" varchar(64) NOT NULL);
CREATE TABLE "lookups_refundrequest" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "notification_uuid" varchar(64) NOT NULL UNIQUE, "environment" varchar(16) NOT NULL, "transaction_id" varchar(64) NOT NULL, "original_transaction_id" varchar(64) NOT NULL, "product_id" varchar(200) NOT NULL, "price_milliunits" bigint NULL, "currency" varchar(3) NOT NULL, "reason" varchar(64) NOT NULL, "requested_at" datetime NOT NULL, "deadline" datetime NOT NULL, "status" varchar(16) NOT NULL, "decision" varchar(16) NOT NULL, "decided_at" datetime NULL, "decision_notification_uuid" varchar(64) NOT NULL, "created_at" datetime NOT NULL, "account_id" bigint NULL REFERENCES "lookups_customeraccount" ("id") DEFERRABLE INITIALLY DEFERRED, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_refusedlink" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created_at" datetime NOT NULL, "environment" varchar(16) NOT NULL, "original_transaction_id" varchar(64) NOT NULL, "token_before" char(32) NULL, "ticket_reference" varchar(100) NOT NULL, "request_id" char(32) NULL, "reason" varchar(32) NOT NULL, "message" text NOT NULL, "account_id" bigint NULL REFERENCES "lookups_customeraccount" ("id") DEFERRABLE INITIALLY DEFERRED, "agent_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_refusednotificationcount" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "source" varchar(64) NOT NULL, "hour" datetime NOT NULL, "refused" integer unsigned NOT NULL CHECK ("refused" >= 0), "rate_limited" integer unsigned NOT NULL CHECK ("rate_limited" >= 0), "samples" integer unsigned NOT NULL CHECK ("samples" >= 0), CONSTRAINT "refusedcount_source_hour" UNIQUE ("source", "hour"));
CREATE TABLE "lookups_subscriptionextension" ("id" char(32) NOT NULL PRIMARY KEY, "created_at" datetime NOT NULL, "environment" varchar(16) NOT NULL, "original_transaction_id" varchar(64) NOT NULL, "product_id" varchar(200) NOT NULL, "extend_by_days" smallint unsigned NOT NULL CHECK ("extend_by_days" >= 0), "reason_code" smallint unsigned NOT NULL CHECK ("reason_code" >= 0), "ticket_reference" varchar(100) NOT NULL, "renewal_date_before" datetime NULL, "outcome" varchar(24) NOT NULL, "error_code" integer NULL, "error_message" text NOT NULL, "effective_date" datetime NULL, "settled_at" datetime NULL, "chain_sequence" bigint unsigned NULL UNIQUE CHECK ("chain_sequence" >= 0), "chain_previous_hash" varchar(64) NOT NULL, "chain_hash" varchar(64) NOT NULL, "account_id" bigint NULL REFERENCES "lookups_customeraccount" ("id") DEFERRABLE INITIALLY DEFERRED, "agent_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "approved_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "agent_username" varchar(150) NULL, "approved_by_username" varchar(150) NULL, "chain_version" smallint unsigned NULL CHECK ("chain_version" >= 0), "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, "app_bundle_id" varchar(155) NULL, CONSTRAINT "extension_days_1_to_90" CHECK (("extend_by_days" >= 1 AND "extend_by_days" <= 90)), CONSTRAINT "extension_chained_iff_settled" CHECK ((("chain_hash" = '' AND "chain_previous_hash" = '' AND "chain_sequence" IS NULL AND "outcome" IN ('awaiting_approval', 'pending') AND "settled_at" IS NULL) OR ("chain_sequence" IS NOT NULL AND "outcome" IN ('succeeded', 'failed', 'rejected') AND "settled_at" IS NOT NULL AND NOT ("chain_previous_hash" = '') AND NOT ("chain_hash" = '')))));
CREATE TABLE "lookups_subscriptionextensionfollowup" ("created_at" datetime NOT NULL, "checks" integer unsigned NOT NULL CHECK ("checks" >= 0), "last_checked_at" datetime NULL, "last_error" text NOT NULL, "next_check_at" datetime NULL, "gave_up_at" datetime NULL, "extension_id" char(32) NOT NULL PRIMARY KEY REFERENCES "lookups_subscriptionextension" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_tokenchange" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "request_id" char(32) NOT NULL UNIQUE, "created_at" datetime NOT NULL, "original_transaction_id" varchar(64) NOT NULL, "product_id" varchar(200) NOT NULL, "environment" varchar(16) NOT NULL, "order_id" varchar(32) NOT NULL, "token_before" char(32) NULL, "token_after" char(32) NOT NULL, "ticket_reference" varchar(100) NOT NULL, "outcome" varchar(16) NOT NULL, "error_code" integer NULL, "error_message" text NOT NULL, "settled_at" datetime NULL, "account_id" bigint NOT NULL REFERENCES "lookups_customeraccount" ("id") DEFERRABLE INITIALLY DEFERRED, "agent_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "lookup_id" bigint NULL REFERENCES "lookups_lookup" ("id") DEFERRABLE INITIALLY DEFERRED, "chain_sequence" bigint unsigned NULL UNIQUE CHECK ("chain_sequence" >= 0), "chain_previous_hash" varchar(64) NOT NULL, "chain_hash" varchar(64) NOT NULL, "agent_username" varchar(150) NULL, "chain_version" smallint unsigned NULL CHECK ("chain_version" >= 0), "transfer_requested_by_username" varchar(150) NULL, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, "app_bundle_id" varchar(155) NULL, CONSTRAINT "tokenchange_settled_at_iff_settled" CHECK ((("outcome" = 'pending' AND "settled_at" IS NULL) OR ("outcome" IN ('succeeded', 'failed') AND "settled_at" IS NOT NULL))), CONSTRAINT "tokenchange_chained_iff_settled" CHECK ((("chain_hash" = '' AND "chain_previous_hash" = '' AND "chain_sequence" IS NULL AND "outcome" = 'pending') OR ("chain_sequence" IS NOT NULL AND "outcome" IN ('succeeded', 'failed') AND NOT ("chain_previous_hash" = '') AND NOT ("chain_hash" = '')))));
CREATE TABLE "lookups_tokenchangefollowup" ("token_change_id" bigint NOT NULL PRIMARY KEY REFERENCES "lookups_tokenchange" ("id") DEFERRABLE INITIALLY DEFERRED, "created_at" datetime NOT NULL, "checks" integer unsigned NOT NULL CHECK ("checks" >= 0), "last_checked_at" datetime NULL, "last_error" text NOT NULL, "next_check_at" datetime NULL, "gave_up_at" datetime NULL);
CREATE TABLE "lookups_transactionfinish" ("error_code" integer NULL, "error_message" text NOT NULL, "settled_at" datetime NULL, "chain_sequence" bigint unsigned NULL UNIQUE CHECK ("chain_sequence" >= 0), "chain_previous_hash" varchar(64) NOT NULL, "chain_hash" varchar(64) NOT NULL, "id" char(32) NOT NULL PRIMARY KEY, "created_at" datetime NOT NULL, "environment" varchar(16) NOT NULL, "transaction_id" varchar(64) NOT NULL, "original_transaction_id" varchar(64) NOT NULL, "product_id" varchar(200) NOT NULL, "order_id" varchar(32) NOT NULL, "note" text NOT NULL, "outcome" varchar(16) NOT NULL, "agent_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "agent_username" varchar(150) NULL, "chain_version" smallint unsigned NULL CHECK ("chain_version" >= 0), "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, "app_bundle_id" varchar(155) NULL, CONSTRAINT "finish_chained_iff_settled" CHECK ((("chain_hash" = '' AND "chain_previous_hash" = '' AND "chain_sequence" IS NULL AND "outcome" IN ('pending') AND "settled_at" IS NULL) OR ("chain_sequence" IS NOT NULL AND "outcome" IN ('succeeded', 'failed') AND "settled_at" IS NOT NULL AND NOT ("chain_previous_hash" = '') AND NOT ("chain_hash" = '')))));
CREATE TABLE "lookups_transactionfinishfollowup" ("created_at" datetime NOT NULL, "checks" integer unsigned NOT NULL CHECK ("checks" >= 0), "last_checked_at" datetime NULL, "last_error" text NOT NULL, "next_check_at" datetime NULL, "gave_up_at" datetime NULL, "finish_id" char(32) NOT NULL PRIMARY KEY REFERENCES "lookups_transactionfinish" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "lookups_transferrequest" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "request_id" char(32) NOT NULL UNIQUE, "created_at" datetime NOT NULL, "environment" varchar(16) NOT NULL, "original_transaction_id" varchar(64) NOT NULL, "product_id" varchar(200) NOT NULL, "order_id" varchar(32) NOT NULL, "token_before" char(32) NOT NULL, "ticket_reference" varchar(100) NOT NULL, "status" varchar(16) NOT NULL, "decided_at" datetime NULL, "account_id" bigint NOT NULL REFERENCES "lookups_customeraccount" ("id") DEFERRABLE INITIALLY DEFERRED, "decided_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "lookup_id" bigint NULL REFERENCES "lookups_lookup" ("id") DEFERRABLE INITIALLY DEFERRED, "requested_by_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "token_change_id" bigint NULL UNIQUE REFERENCES "lookups_tokenchange" ("id") DEFERRABLE INITIALLY DEFERRED, "requested_by_username" varchar(150) NULL, "decided_by_username" varchar(150) NULL, "chain_version" smallint unsigned NULL CHECK ("chain_version" >= 0), "chain_sequence" bigint unsigned NULL CHECK ("chain_sequence" >= 0), "chain_previous_hash" varchar(64) NULL, "chain_hash" varchar(64) NULL, "app_id" bigint NULL REFERENCES "lookups_app" ("id") DEFERRABLE INITIALLY DEFERRED, "app_bundle_id" varchar(155) NULL, CONSTRAINT "transferrequest_decided_iff_closed" CHECK ((("decided_at" IS NULL AND "decided_by_id" IS NULL AND "status" = 'open') OR ("decided_at" IS NOT NULL AND "decided_by_id" IS NOT NULL AND "status" IN ('approved', 'rejected')))), CONSTRAINT "transferrequest_decided_by_someone_else" CHECK (("decided_by_id" IS NULL OR NOT ("decided_by_id" = ("requested_by_id") AND "decided_by_id" IS NOT NULL))));
CREATE TABLE "otp_static_staticdevice" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(64) NOT NULL, "confirmed" bool NOT NULL, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "throttling_failure_count" integer unsigned NOT NULL CHECK ("throttling_failure_count" >= 0), "throttling_failure_timestamp" datetime NULL, "created_at" datetime NULL, "last_used_at" datetime NULL);
CREATE TABLE "otp_static_statictoken" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "token" varchar(16) NOT NULL, "device_id" integer NOT NULL REFERENCES "otp_static_staticdevice" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "otp_totp_totpdevice" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(64) NOT NULL, "confirmed" bool NOT NULL, "key" varchar(80) NOT NULL, "step" smallint unsigned NOT NULL CHECK ("step" >= 0), "t0" bigint NOT NULL, "digits" smallint unsigned NOT NULL CHECK ("digits" >= 0), "tolerance" smallint unsigned NOT NULL CHECK ("tolerance" >= 0), "drift" smallint NOT NULL, "last_t" bigint NOT NULL, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "throttling_failure_count" integer unsigned NOT NULL CHECK ("throttling_failure_count" >= 0), "throttling_failure_timestamp" datetime NULL, "created_at" datetime NULL, "last_used_at" datetime NULL);
INSERT INTO "auth_group" VALUES(1,'Support agents');
INSERT INTO "auth_group" VALUES(2,'Auditors');
INSERT INTO "auth_group" VALUES(3,'Managers');
INSERT INTO "auth_group_permissions" VALUES(1,1,4);
INSERT INTO "auth_group_permissions" VALUES(2,1,6);
INSERT INTO "auth_group_permissions" VALUES(3,1,7);
INSERT INTO "auth_group_permissions" VALUES(4,2,10);
INSERT INTO "auth_group_permissions" VALUES(5,2,4);
INSERT INTO "auth_group_permissions" VALUES(6,2,5);
INSERT INTO "auth_group_permissions" VALUES(7,3,4);
INSERT INTO "auth_group_permissions" VALUES(8,3,5);
INSERT INTO "auth_group_permissions" VALUES(9,3,8);
INSERT INTO "auth_group_permissions" VALUES(10,3,9);
INSERT INTO "auth_group_permissions" VALUES(11,3,10);
INSERT INTO "auth_group_permissions" VALUES(12,2,11);
INSERT INTO "auth_group_permissions" VALUES(13,2,12);
INSERT INTO "auth_group_permissions" VALUES(14,3,11);
INSERT INTO "auth_group_permissions" VALUES(15,3,12);
INSERT INTO "auth_group_permissions" VALUES(16,2,13);
INSERT INTO "auth_group_permissions" VALUES(17,2,14);
INSERT INTO "auth_group_permissions" VALUES(18,2,15);
INSERT INTO "auth_group_permissions" VALUES(19,3,16);
INSERT INTO "auth_group_permissions" VALUES(20,3,13);
INSERT INTO "auth_group_permissions" VALUES(21,3,14);
INSERT INTO "auth_group_permissions" VALUES(22,3,15);
INSERT INTO "auth_group_permissions" VALUES(23,3,17);
INSERT INTO "auth_group_permissions" VALUES(24,3,18);
INSERT INTO "auth_group_permissions" VALUES(25,3,19);
INSERT INTO "auth_group_permissions" VALUES(26,3,20);
INSERT INTO "auth_group_permissions" VALUES(27,2,24);
INSERT INTO "auth_group_permissions" VALUES(28,2,26);
INSERT INTO "auth_group_permissions" VALUES(29,2,21);
INSERT INTO "auth_group_permissions" VALUES(30,3,24);
INSERT INTO "auth_group_permissions" VALUES(31,3,26);
INSERT INTO "auth_group_permissions" VALUES(32,3,21);
INSERT INTO "auth_group_permissions" VALUES(33,3,23);
INSERT INTO "auth_group_permissions" VALUES(34,1,25);
INSERT INTO "auth_group_permissions" VALUES(35,1,22);
INSERT INTO "auth_group_permissions" VALUES(36,2,27);
INSERT INTO "auth_group_permissions" VALUES(37,2,28);
INSERT INTO "auth_group_permissions" VALUES(38,3,27);
INSERT INTO "auth_group_permissions" VALUES(39,3,28);
INSERT INTO "auth_group_permissions" VALUES(40,2,29);
INSERT INTO "auth_group_permissions" VALUES(41,2,30);
INSERT INTO "auth_group_permissions" VALUES(42,3,29);
INSERT INTO "auth_group_permissions" VALUES(43,3,30);
INSERT INTO "auth_group_permissions" VALUES(44,2,32);
INSERT INTO "auth_group_permissions" VALUES(45,2,31);
INSERT INTO "auth_group_permissions" VALUES(46,3,32);
INSERT INTO "auth_group_permissions" VALUES(47,3,31);
INSERT INTO "auth_group_permissions" VALUES(48,3,6);
INSERT INTO "auth_permission" VALUES(1,1,'add_customeraccount','Can add customer account');
INSERT INTO "auth_permission" VALUES(2,1,'change_customeraccount','Can change customer account');
INSERT INTO "auth_permission" VALUES(3,1,'delete_customeraccount','Can delete customer account');
INSERT INTO "auth_permission" VALUES(4,1,'view_customeraccount','Can view customer account');
INSERT INTO "auth_permission" VALUES(5,2,'view_lookup','Can view lookup');
INSERT INTO "auth_permission" VALUES(6,2,'look_up_orders','Can look up orders and transaction history');
INSERT INTO "auth_permission" VALUES(7,2,'link_purchases','Can link purchases to customer accounts');
INSERT INTO "auth_permission" VALUES(8,2,'view_reports','Can open the reports page');
INSERT INTO "auth_permission" VALUES(9,2,'export_csv','Can export CSV reports');
INSERT INTO "auth_permission" VALUES(10,3,'view_tokenchange','Can view token change');
INSERT INTO "auth_permission" VALUES(11,4,'view_export','Can view export');
INSERT INTO "auth_permission" VALUES(12,5,'view_adaptydelivery','Can view Adapty delivery');
INSERT INTO "auth_permission" VALUES(13,6,'view_purchase','Can view purchase');
INSERT INTO "auth_permission" VALUES(14,7,'view_refusedlink','Can view refused link');
INSERT INTO "auth_permission" VALUES(15,8,'view_transferrequest','Can view transfer request');
INSERT INTO "auth_permission" VALUES(16,8,'approve_transfers','Can approve or reject purchase transfers');
INSERT INTO "auth_permission" VALUES(17,9,'view_product','Can view product in the catalogue');
INSERT INTO "auth_permission" VALUES(18,9,'add_product','Can add product in the catalogue');
INSERT INTO "auth_permission" VALUES(19,9,'change_product','Can change product in the catalogue');
INSERT INTO "auth_permission" VALUES(20,9,'delete_product','Can delete product in the catalogue');
INSERT INTO "auth_permission" VALUES(21,10,'view_subscriptionextension','Can view subscription extension');
INSERT INTO "auth_permission" VALUES(22,10,'extend_subscriptions','Can extend subscription renewal dates');
INSERT INTO "auth_permission" VALUES(23,10,'approve_extensions','Can approve extensions above the daily limit');
INSERT INTO "auth_permission" VALUES(24,11,'view_refundrequest','Can view refund request');
INSERT INTO "auth_permission" VALUES(25,11,'answer_refund_requests','Can answer Apple''s refund requests');
INSERT INTO "auth_permission" VALUES(26,12,'view_consumptionanswer','Can view consumption answer');
INSERT INTO "auth_permission" VALUES(27,13,'view_customernote','Can view customer note');
INSERT INTO "auth_permission" VALUES(28,14,'view_customernoterevision','Can view customer note revision');
INSERT INTO "auth_permission" VALUES(29,15,'view_auditcheck','Can view audit check');
INSERT INTO "auth_permission" VALUES(30,15,'run_audit_checks','Can start a check of the audit log');
INSERT INTO "auth_permission" VALUES(31,16,'view_outagecompensation','Can view outage compensation');
INSERT INTO "auth_permission" VALUES(32,17,'view_transactionfinish','Can view transaction finish');
INSERT INTO "auth_permission" VALUES(33,18,'add_logentry','Can add log entry');
INSERT INTO "auth_permission" VALUES(34,18,'change_logentry','Can change log entry');
INSERT INTO "auth_permission" VALUES(35,18,'delete_logentry','Can delete log entry');
INSERT INTO "auth_permission" VALUES(36,18,'view_logentry','Can view log entry');
INSERT INTO "auth_permission" VALUES(37,20,'add_permission','Can add permission');
INSERT INTO "auth_permission" VALUES(38,20,'change_permission','Can change permission');
INSERT INTO "auth_permission" VALUES(39,20,'delete_permission','Can delete permission');
INSERT INTO "auth_permission" VALUES(40,20,'view_permission','Can view permission');
INSERT INTO "auth_permission" VALUES(41,19,'add_group','Can add group');
INSERT INTO "auth_permission" VALUES(42,19,'change_group','Can change group');
INSERT INTO "auth_permission" VALUES(43,19,'delete_group','Can delete group');
INSERT INTO "auth_permission" VALUES(44,19,'view_group','Can view group');
INSERT INTO "auth_permission" VALUES(45,21,'add_user','Can add user');
INSERT INTO "auth_permission" VALUES(46,21,'change_user','Can change user');
INSERT INTO "auth_permission" VALUES(47,21,'delete_user','Can delete user');
INSERT INTO "auth_permission" VALUES(48,21,'view_user','Can view user');
INSERT INTO "auth_permission" VALUES(49,22,'add_contenttype','Can add content type');
INSERT INTO "auth_permission" VALUES(50,22,'change_contenttype','Can change content type');
INSERT INTO "auth_permission" VALUES(51,22,'delete_contenttype','Can delete content type');
INSERT INTO "auth_permission" VALUES(52,22,'view_contenttype','Can view content type');
INSERT INTO "auth_permission" VALUES(53,23,'add_session','Can add session');
INSERT INTO "auth_permission" VALUES(54,23,'change_session','Can change session');
INSERT INTO "auth_permission" VALUES(55,23,'delete_session','Can delete session');
INSERT INTO "auth_permission" VALUES(56,23,'view_session','Can view session');
INSERT INTO "auth_permission" VALUES(57,24,'add_accessattempt','Can add access attempt');
INSERT INTO "auth_permission" VALUES(58,24,'change_accessattempt','Can change access attempt');
INSERT INTO "auth_permission" VALUES(59,24,'delete_accessattempt','Can delete access attempt');
INSERT INTO "auth_permission" VALUES(60,24,'view_accessattempt','Can view access attempt');
INSERT INTO "auth_permission" VALUES(61,27,'add_accesslog','Can add access log');
INSERT INTO "auth_permission" VALUES(62,27,'change_accesslog','Can change access log');
INSERT INTO "auth_permission" VALUES(63,27,'delete_accesslog','Can delete access log');
INSERT INTO "auth_permission" VALUES(64,27,'view_accesslog','Can view access log');
INSERT INTO "auth_permission" VALUES(65,26,'add_accessfailurelog','Can add access failure');
INSERT INTO "auth_permission" VALUES(66,26,'change_accessfailurelog','Can change access failure');
INSERT INTO "auth_permission" VALUES(67,26,'delete_accessfailurelog','Can delete access failure');
INSERT INTO "auth_permission" VALUES(68,26,'view_accessfailurelog','Can view access failure');
INSERT INTO "auth_permission" VALUES(69,25,'add_accessattemptexpiration','Can add access attempt expiration');
INSERT INTO "auth_permission" VALUES(70,25,'change_accessattemptexpiration','Can change access attempt expiration');
INSERT INTO "auth_permission" VALUES(71,25,'delete_accessattemptexpiration','Can delete access attempt expiration');
INSERT INTO "auth_permission" VALUES(72,25,'view_accessattemptexpiration','Can view access attempt expiration');
INSERT INTO "auth_permission" VALUES(73,28,'add_totpdevice','Can add TOTP device');
INSERT INTO "auth_permission" VALUES(74,28,'change_totpdevice','Can change TOTP device');
INSERT INTO "auth_permission" VALUES(75,28,'delete_totpdevice','Can delete TOTP device');
INSERT INTO "auth_permission" VALUES(76,28,'view_totpdevice','Can view TOTP device');
INSERT INTO "auth_permission" VALUES(77,29,'add_staticdevice','Can add static device');
INSERT INTO "auth_permission" VALUES(78,29,'change_staticdevice','Can change static device');
INSERT INTO "auth_permission" VALUES(79,29,'delete_staticdevice','Can delete static device');
INSERT INTO "auth_permission" VALUES(80,29,'view_staticdevice','Can view static device');
INSERT INTO "auth_permission" VALUES(81,30,'add_statictoken','Can add static token');
INSERT INTO "auth_permission" VALUES(82,30,'change_statictoken','Can change static token');
INSERT INTO "auth_permission" VALUES(83,30,'delete_statictoken','Can delete static token');
INSERT INTO "auth_permission" VALUES(84,30,'view_statictoken','Can view static token');
INSERT INTO "auth_permission" VALUES(85,42,'view_tokenchangefollowup','Can view token change follow up');
INSERT INTO "auth_permission" VALUES(86,39,'view_quarantinednotification','Can view quarantined notification');
INSERT INTO "auth_permission" VALUES(87,33,'view_appstorenotification','Can view app store notification');
INSERT INTO "auth_permission" VALUES(88,35,'view_consumptionanswerfollowup','Can view consumption answer follow up');
INSERT INTO "auth_permission" VALUES(89,41,'view_subscriptionextensionfollowup','Can view subscription extension follow up');
INSERT INTO "auth_permission" VALUES(90,40,'view_refusednotificationcount','Can view refused notification count');
INSERT INTO "auth_permission" VALUES(91,38,'view_outagecompensationfollowup','Can view outage compensation follow up');
INSERT INTO "auth_permission" VALUES(92,43,'view_transactionfinishfollowup','Can view transaction finish follow up');
INSERT INTO "auth_permission" VALUES(93,31,'add_app','Can add app');
INSERT INTO "auth_permission" VALUES(94,31,'change_app','Can change app');
INSERT INTO "auth_permission" VALUES(95,31,'delete_app','Can delete app');
INSERT INTO "auth_permission" VALUES(96,31,'view_app','Can view app');
INSERT INTO "auth_permission" VALUES(97,44,'add_dbtaskresult','Can add Task Result');
INSERT INTO "auth_permission" VALUES(98,44,'change_dbtaskresult','Can change Task Result');
INSERT INTO "auth_permission" VALUES(99,44,'delete_dbtaskresult','Can delete Task Result');
INSERT INTO "auth_permission" VALUES(100,44,'view_dbtaskresult','Can view Task Result');
INSERT INTO "django_content_type" VALUES(1,'lookups','customeraccount');
INSERT INTO "django_content_type" VALUES(2,'lookups','lookup');
INSERT INTO "django_content_type" VALUES(3,'lookups','tokenchange');
INSERT INTO "django_content_type" VALUES(4,'lookups','export');
INSERT INTO "django_content_type" VALUES(5,'lookups','adaptydelivery');
INSERT INTO "django_content_type" VALUES(6,'lookups','purchase');
INSERT INTO "django_content_type" VALUES(7,'lookups','refusedlink');
INSERT INTO "django_content_type" VALUES(8,'lookups','transferrequest');
INSERT INTO "django_content_type" VALUES(9,'lookups','product');
INSERT INTO "django_content_type" VALUES(10,'lookups','subscriptionextension');
INSERT INTO "django_content_type" VALUES(11,'lookups','refundrequest');
INSERT INTO "django_content_type" VALUES(12,'lookups','consumptionanswer');
INSERT INTO "django_content_type" VALUES(13,'lookups','customernote');
INSERT INTO "django_content_type" VALUES(14,'lookups','customernoterevision');
INSERT INTO "django_content_type" VALUES(15,'lookups','auditcheck');
INSERT INTO "django_content_type" VALUES(16,'lookups','outagecompensation');
INSERT INTO "django_content_type" VALUES(17,'lookups','transactionfinish');
INSERT INTO "django_content_type" VALUES(18,'admin','logentry');
INSERT INTO "django_content_type" VALUES(19,'auth','group');
INSERT INTO "django_content_type" VALUES(20,'auth','permission');
INSERT INTO "django_content_type" VALUES(21,'auth','user');
INSERT INTO "django_content_type" VALUES(22,'contenttypes','contenttype');
INSERT INTO "django_content_type" VALUES(23,'sessions','session');
INSERT INTO "django_content_type" VALUES(24,'axes','accessattempt');
INSERT INTO "django_content_type" VALUES(25,'axes','accessattemptexpiration');
INSERT INTO "django_content_type" VALUES(26,'axes','accessfailurelog');
INSERT INTO "django_content_type" VALUES(27,'axes','accesslog');
INSERT INTO "django_content_type" VALUES(28,'otp_totp','totpdevice');
INSERT INTO "django_content_type" VALUES(29,'otp_static','staticdevice');
INSERT INTO "django_content_type" VALUES(30,'otp_static','statictoken');
INSERT INTO "django_content_type" VALUES(31,'lookups','app');
INSERT INTO "django_content_type" VALUES(32,'lookups','applepause');
INSERT INTO "django_content_type" VALUES(33,'lookups','appstorenotification');
INSERT INTO "django_content_type" VALUES(34,'lookups','auditchainhead');
INSERT INTO "django_content_type" VALUES(35,'lookups','consumptionanswerfollowup');
INSERT INTO "django_content_type" VALUES(36,'lookups','customervisit');
INSERT INTO "django_content_type" VALUES(37,'lookups','dailytally');
INSERT INTO "django_content_type" VALUES(38,'lookups','outagecompensationfollowup');
INSERT INTO "django_content_type" VALUES(39,'lookups','quarantinednotification');
INSERT INTO "django_content_type" VALUES(40,'lookups','refusednotificationcount');
INSERT INTO "django_content_type" VALUES(41,'lookups','subscriptionextensionfollowup');
INSERT INTO "django_content_type" VALUES(42,'lookups','tokenchangefollowup');
INSERT INTO "django_content_type" VALUES(43,'lookups','transactionfinishfollowup');
INSERT INTO "django_content_type" VALUES(44,'django_tasks_database','dbtaskresult');
INSERT INTO "django_migrations" VALUES(1,'contenttypes','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(2,'auth','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(3,'admin','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(4,'admin','0002_logentry_remove_auto_add',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(5,'admin','0003_logentry_add_action_flag_choices',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(6,'contenttypes','0002_remove_content_type_name',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(7,'auth','0002_alter_permission_name_max_length',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(8,'auth','0003_alter_user_email_max_length',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(9,'auth','0004_alter_user_username_opts',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(10,'auth','0005_alter_user_last_login_null',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(11,'auth','0006_require_contenttypes_0002',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(12,'auth','0007_alter_validators_add_error_messages',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(13,'auth','0008_alter_user_username_max_length',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(14,'auth','0009_alter_user_last_name_max_length',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(15,'auth','0010_alter_group_name_max_length',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(16,'auth','0011_update_proxy_permissions',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(17,'auth','0012_alter_user_first_name_max_length',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(18,'axes','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(19,'axes','0002_auto_20151217_2044',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(20,'axes','0003_auto_20160322_0929',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(21,'axes','0004_auto_20181024_1538',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(22,'axes','0005_remove_accessattempt_trusted',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(23,'axes','0006_remove_accesslog_trusted',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(24,'axes','0007_alter_accessattempt_unique_together',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(25,'axes','0008_accessfailurelog',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(26,'axes','0009_add_session_hash',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(27,'axes','0010_accessattemptexpiration',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(28,'django_tasks_database','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(29,'django_tasks_database','0002_alter_dbtaskresult_options',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(30,'django_tasks_database','0003_dbtaskresult_enqueued_at_dbtaskresult_finished_at',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(31,'django_tasks_database','0004_dbtaskresult_started_at',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(32,'django_tasks_database','0005_alter_dbtaskresult_priority_and_more',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(33,'django_tasks_database','0006_alter_dbtaskresult_args_kwargs_and_more',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(34,'django_tasks_database','0007_add_separate_results_fields',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(35,'django_tasks_database','0008_separate_results_field',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(36,'django_tasks_database','0009_remove_results_field',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(37,'django_tasks_database','0010_alter_dbtaskresult_status',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(38,'django_tasks_database','0011_rename_complete_status',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(39,'django_tasks_database','0012_add_separate_exception_fields',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(40,'django_tasks_database','0013_separate_exception_fields',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(41,'django_tasks_database','0014_remove_dbtaskresult_exception_data',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(42,'django_tasks_database','0015_correctly_order_run_after',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(43,'django_tasks_database','0016_remove_dbtaskresult_django_task_new_ordering_idx_and_more',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(44,'django_tasks_database','0017_dbtaskresult_metadata',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(45,'django_tasks_database','0018_rename_succeeded_status',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(46,'django_tasks_database','0019_rename_django_task_new_ordering_idx_tasks_db_new_ordering_idx_and_more',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(47,'django_tasks_database','0020_update_db_task_result_ordering',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(48,'django_tasks_database','0021_conditional_partial_index_ordering',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(49,'lookups','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(50,'lookups','0002_roles',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(51,'lookups','0003_one_pending_change_per_purchase',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(52,'lookups','0004_exports_and_adapty_deliveries',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(53,'lookups','0005_auditors_see_exports_and_adapty',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(54,'lookups','0006_audit_chain',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(55,'lookups','0007_audit_log_append_only_in_database',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(56,'lookups','0008_tokenchange_environment_index',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(57,'lookups','0009_admin_search_indexes',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(58,'lookups','0010_audit_log_owner_only',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(59,'lookups','0011_audit_chain_keyed',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(60,'lookups','0012_link_purchases_transfers_refusals',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(61,'lookups','0013_background_work',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(62,'lookups','0014_product_catalogue_and_ticket_search',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(63,'lookups','0015_notifications_and_status',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(64,'lookups','0016_extensions_and_refund_requests',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(65,'lookups','0017_consumption_answers_in_the_audit_log',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(66,'lookups','0018_lookup_held_by_the_desk',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(67,'lookups','0019_purchases_by_order',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(68,'lookups','0020_one_follow_up_for_every_action',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(69,'lookups','0021_apple_pauses',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(70,'lookups','0050_search_notes_and_visits',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(71,'lookups','0051_search_indexes_on_postgresql',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(72,'lookups','0030_audit_triggers_see_only_real_objects',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(73,'lookups','0031_refused_notification_counts',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(74,'lookups','0032_usernames_in_the_audit_chain',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(75,'lookups','0033_audit_checks',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(76,'lookups','0080_outage_compensation_and_finishing',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(77,'lookups','0081_auditors_see_outages_and_finishes',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(78,'lookups','0082_usernames_of_outages_and_finishes',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(79,'lookups','0070_lists_newest_first',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(80,'lookups','0100_transfer_decisions_in_the_audit_chain',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(81,'lookups','0090_consumption_answer_request_ids',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(82,'lookups','0110_unlinked_offer_codes_indexed',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(83,'lookups','0120_managers_read_orders_and_customers',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(84,'lookups','0200_registered_apps',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(85,'lookups','0201_purchases_name_their_app',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(86,'lookups','0202_notifications_name_their_app',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(87,'lookups','0203_refund_requests_name_their_app',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(88,'lookups','0340_daily_tallies',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(89,'lookups','0341_accounts_by_name',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(90,'lookups','0342_action_rows_name_their_app',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(91,'lookups','0350_app_in_the_audit_chain',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(92,'lookups','0360_products_and_tallies_name_their_app',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(93,'lookups','0370_tokenchange_agent_created',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(94,'lookups','0380_app_adapty_key_source',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(95,'otp_static','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(96,'otp_static','0002_throttling',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(97,'otp_static','0003_add_timestamps',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(98,'otp_totp','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(99,'otp_totp','0002_auto_20190420_0723',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(100,'otp_totp','0003_add_timestamps',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "django_migrations" VALUES(101,'sessions','0001_initial',strftime('%Y-%m-%d %H:%M:%f','now'));
INSERT INTO "lookups_auditchainhead" VALUES(1,0,'0000000000000000000000000000000000000000000000000000000000000000');
CREATE UNIQUE INDEX "auth_group_permissions_group_id_permission_id_0cd325b0_uniq" ON "auth_group_permissions" ("group_id", "permission_id");
CREATE INDEX "auth_group_permissions_group_id_b120cbf9" ON "auth_group_permissions" ("group_id");
CREATE INDEX "auth_group_permissions_permission_id_84c5c92e" ON "auth_group_permissions" ("permission_id");
CREATE UNIQUE INDEX "auth_user_groups_user_id_group_id_94350c0c_uniq" ON "auth_user_groups" ("user_id", "group_id");
CREATE INDEX "auth_user_groups_user_id_6a12ed8b" ON "auth_user_groups" ("user_id");
CREATE INDEX "auth_user_groups_group_id_97559544" ON "auth_user_groups" ("group_id");
CREATE UNIQUE INDEX "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq" ON "auth_user_user_permissions" ("user_id", "permission_id");
CREATE INDEX "auth_user_user_permissions_user_id_a95ead1b" ON "auth_user_user_permissions" ("user_id");
CREATE INDEX "auth_user_user_permissions_permission_id_1fbb5f2c" ON "auth_user_user_permissions" ("permission_id");
CREATE INDEX "django_admin_log_content_type_id_c4bce8eb" ON "django_admin_log" ("content_type_id");
CREATE INDEX "django_admin_log_user_id_c564eba6" ON "django_admin_log" ("user_id");
CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq" ON "django_content_type" ("app_label", "model");
CREATE UNIQUE INDEX "auth_permission_content_type_id_codename_01ab375a_uniq" ON "auth_permission" ("content_type_id", "codename");
CREATE INDEX "auth_permission_content_type_id_2f476e4b" ON "auth_permission" ("content_type_id");
CREATE INDEX "axes_accessattempt_user_agent_ad89678b" ON "axes_accessattempt" ("user_agent");
CREATE INDEX "axes_accessattempt_ip_address_10922d9c" ON "axes_accessattempt" ("ip_address");
CREATE INDEX "axes_accessattempt_username_3f2d4ca0" ON "axes_accessattempt" ("username");
CREATE UNIQUE INDEX "axes_accessattempt_username_ip_address_user_agent_8ea22282_uniq" ON "axes_accessattempt" ("username", "ip_address", "user_agent");
CREATE INDEX "axes_accessfailurelog_user_agent_ea145dda" ON "axes_accessfailurelog" ("user_agent");
CREATE INDEX "axes_accessfailurelog_ip_address_2e9f5a7f" ON "axes_accessfailurelog" ("ip_address");
CREATE INDEX "axes_accessfailurelog_username_a8b7e8a4" ON "axes_accessfailurelog" ("username");
CREATE INDEX "axes_accesslog_user_agent_0e659004" ON "axes_accesslog" ("user_agent");
CREATE INDEX "axes_accesslog_ip_address_86b417e5" ON "axes_accesslog" ("ip_address");
CREATE INDEX "axes_accesslog_username_df93064b" ON "axes_accesslog" ("username");
CREATE INDEX "django_task_queue_n_99c321_idx" ON "django_tasks_database_dbtaskresult" ("queue_name");
CREATE INDEX "django_task_backend_071754_idx" ON "django_tasks_database_dbtaskresult" ("backend_name");
CREATE INDEX "tasks_db_new_ordering_idx" ON "django_tasks_database_dbtaskresult" ("status", "priority" DESC, "run_after" ASC, "enqueued_at" ASC) WHERE "status" = 'READY';
CREATE INDEX "lookup_agent_created" ON "lookups_lookup" ("agent_id", "created_at" DESC);
CREATE INDEX "lookup_outcome_created" ON "lookups_lookup" ("outcome", "created_at" DESC);
CREATE INDEX "lookup_environment" ON "lookups_lookup" ("environment");
CREATE INDEX "lookups_customeraccount_email_93d503df" ON "lookups_customeraccount" ("email");
CREATE INDEX "lookups_customeraccount_created_at_500a3456" ON "lookups_customeraccount" ("created_at");
CREATE INDEX "lookups_lookup_created_at_60f17169" ON "lookups_lookup" ("created_at");
CREATE INDEX "lookups_lookup_order_id_12f58338" ON "lookups_lookup" ("order_id");
CREATE INDEX "lookups_lookup_transaction_id_004c6d98" ON "lookups_lookup" ("transaction_id");
CREATE INDEX "lookups_lookup_agent_id_5e2af6bd" ON "lookups_lookup" ("agent_id");
CREATE INDEX "lookups_export_created_at_971c37c9" ON "lookups_export" ("created_at");
CREATE INDEX "lookups_export_user_id_6b2fb5d1" ON "lookups_export" ("user_id");
CREATE UNIQUE INDEX "tokenchange_one_pending_per_purchase" ON "lookups_tokenchange" ("original_transaction_id") WHERE "outcome" = 'pending';
CREATE INDEX "lookups_tokenchange_created_at_55a2f25f" ON "lookups_tokenchange" ("created_at");
CREATE INDEX "lookups_tokenchange_original_transaction_id_0d257a46" ON "lookups_tokenchange" ("original_transaction_id");
CREATE INDEX "lookups_tokenchange_outcome_f6519c42" ON "lookups_tokenchange" ("outcome");
CREATE INDEX "lookups_tokenchange_account_id_a8773e15" ON "lookups_tokenchange" ("account_id");
CREATE INDEX "lookups_tokenchange_agent_id_8409a3cb" ON "lookups_tokenchange" ("agent_id");
CREATE INDEX "lookups_tokenchange_lookup_id_f4a250c2" ON "lookups_tokenchange" ("lookup_id");
CREATE TRIGGER lookups_tokenchange_settled_rows_stay
    BEFORE UPDATE ON lookups_tokenchange
    FOR EACH ROW WHEN OLD.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_tokenchange: settled rows of the audit log never change'); END;
CREATE TRIGGER lookups_tokenchange_never_deleted
    BEFORE DELETE ON lookups_tokenchange
    FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM lookups_auditlogflush)
    BEGIN SELECT RAISE(ABORT, 'DELETE refused on lookups_tokenchange: the audit log is append-only'); END;
CREATE TRIGGER lookups_auditchainhead_moves_forward
    BEFORE UPDATE ON lookups_auditchainhead
    FOR EACH ROW WHEN NEW.id <> OLD.id OR NEW.last_sequence <> OLD.last_sequence + 1
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_auditchainhead: the chain head only moves forward by one'); END;
CREATE TRIGGER lookups_auditchainhead_never_deleted
    BEFORE DELETE ON lookups_auditchainhead
    FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM lookups_auditlogflush)
    BEGIN SELECT RAISE(ABORT, 'DELETE refused on lookups_auditchainhead: the audit log is append-only'); END;
CREATE INDEX "tokenchange_env_created" ON "lookups_tokenchange" ("environment", "created_at" DESC);
CREATE INDEX "tokenchange_order_id" ON "lookups_tokenchange" ("order_id");
CREATE INDEX "tokenchange_ticket" ON "lookups_tokenchange" ("ticket_reference");
CREATE INDEX "tokenchange_account_created" ON "lookups_tokenchange" ("account_id", "created_at" DESC);
CREATE TRIGGER lookups_tokenchange_inserted_pending
    BEFORE INSERT ON lookups_tokenchange
    FOR EACH ROW WHEN NEW.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'INSERT refused on lookups_tokenchange: a token change is written pending and joins the chain only by settling'); END;
CREATE TRIGGER lookups_tokenchange_settles_at_the_head
    BEFORE UPDATE ON lookups_tokenchange
    FOR EACH ROW WHEN OLD.outcome = 'pending' AND NEW.outcome <> 'pending'
        AND NOT EXISTS (SELECT 1 FROM lookups_auditchainhead
                        WHERE id = 1 AND last_sequence = NEW.chain_sequence
                          AND last_hash = NEW.chain_hash)
    BEGIN SELECT RAISE(ABORT,
'UPDATE refused on lookups_tokenchange: a row settles only where the chain head now is'); END;
CREATE INDEX "lookups_refusedlink_created_at_fccb51ed" ON "lookups_refusedlink" ("created_at");
CREATE INDEX "lookups_refusedlink_original_transaction_id_eaba6896" ON "lookups_refusedlink" ("original_transaction_id");
CREATE INDEX "lookups_refusedlink_account_id_042cbfc9" ON "lookups_refusedlink" ("account_id");
CREATE INDEX "lookups_refusedlink_agent_id_3b529b0b" ON "lookups_refusedlink" ("agent_id");
CREATE UNIQUE INDEX "transferrequest_one_open_per_purchase" ON "lookups_transferrequest" ("environment", "original_transaction_id") WHERE "status" = 'open';
CREATE INDEX "lookups_transferrequest_created_at_016fe157" ON "lookups_transferrequest" ("created_at");
CREATE INDEX "lookups_transferrequest_original_transaction_id_8591b536" ON "lookups_transferrequest" ("original_transaction_id");
CREATE INDEX "lookups_transferrequest_status_5b6bc622" ON "lookups_transferrequest" ("status");
CREATE INDEX "lookups_transferrequest_account_id_8885be13" ON "lookups_transferrequest" ("account_id");
CREATE INDEX "lookups_transferrequest_decided_by_id_f1d6f6b6" ON "lookups_transferrequest" ("decided_by_id");
CREATE INDEX "lookups_transferrequest_lookup_id_866aafe9" ON "lookups_transferrequest" ("lookup_id");
CREATE INDEX "lookups_transferrequest_requested_by_id_8334f05b" ON "lookups_transferrequest" ("requested_by_id");
CREATE INDEX "lookups_tokenchangefollowup_next_check_at_29fbf742" ON "lookups_tokenchangefollowup" ("next_check_at");
CREATE INDEX "lookups_adaptydelivery_created_at_120135b5" ON "lookups_adaptydelivery" ("created_at");
CREATE INDEX "lookups_adaptydelivery_outcome_71899e87" ON "lookups_adaptydelivery" ("outcome");
CREATE INDEX "lookups_adaptydelivery_agent_id_0464404d" ON "lookups_adaptydelivery" ("agent_id");
CREATE INDEX "lookups_adaptydelivery_token_change_id_f045a9e4" ON "lookups_adaptydelivery" ("token_change_id");
CREATE INDEX "adaptydelivery_unsettled" ON "lookups_adaptydelivery" ("outcome", "not_before") WHERE "outcome" IN ('queued', 'sent');
CREATE INDEX "tokenchange_ticket_upper" ON "lookups_tokenchange" ((UPPER("ticket_reference")));
CREATE INDEX "lookups_appstorenotification_original_transaction_id_7dcbed6b" ON "lookups_appstorenotification" ("original_transaction_id");
CREATE INDEX "notification_unprocessed" ON "lookups_appstorenotification" ("state", "received_at");
CREATE TRIGGER lookups_extension_inserted_pending
    BEFORE INSERT ON lookups_subscriptionextension
    FOR EACH ROW WHEN NEW.outcome NOT IN ('pending', 'awaiting_approval')
    BEGIN SELECT RAISE(ABORT, 'INSERT refused on lookups_subscriptionextension: an extension is written pending and joins the chain only by settling'); END;
CREATE TRIGGER lookups_extension_settled_rows_stay
    BEFORE UPDATE ON lookups_subscriptionextension
    FOR EACH ROW WHEN OLD.outcome NOT IN ('pending', 'awaiting_approval')
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_subscriptionextension: settled rows of the audit log never change'); END;
CREATE TRIGGER lookups_extension_settles_at_the_head
    BEFORE UPDATE ON lookups_subscriptionextension
    FOR EACH ROW WHEN OLD.outcome IN ('pending', 'awaiting_approval') AND NEW.outcome NOT IN ('pending', 'awaiting_approval')
        AND NOT EXISTS (SELECT 1 FROM lookups_auditchainhead WHERE id = 1 AND last_sequence = NEW.chain_sequence AND last_hash = NEW.chain_hash)
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_subscriptionextension: a row settles only where the chain head now is'); END;
CREATE TRIGGER lookups_extension_never_deleted
    BEFORE DELETE ON lookups_subscriptionextension
    FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM lookups_auditlogflush)
    BEGIN SELECT RAISE(ABORT, 'DELETE refused on lookups_subscriptionextension: the audit log is append-only'); END;
CREATE UNIQUE INDEX "extension_one_pending_per_purchase" ON "lookups_subscriptionextension" ("environment", "original_transaction_id") WHERE "outcome" = 'pending';
CREATE INDEX "lookups_subscriptionextension_created_at_a77808a6" ON "lookups_subscriptionextension" ("created_at");
CREATE INDEX "lookups_subscriptionextension_original_transaction_id_a5b5ea44" ON "lookups_subscriptionextension" ("original_transaction_id");
CREATE INDEX "lookups_subscriptionextension_outcome_de7e5266" ON "lookups_subscriptionextension" ("outcome");
CREATE INDEX "lookups_subscriptionextension_account_id_e218ce75" ON "lookups_subscriptionextension" ("account_id");
CREATE INDEX "lookups_subscriptionextension_agent_id_48e38386" ON "lookups_subscriptionextension" ("agent_id");
CREATE INDEX "lookups_subscriptionextension_approved_by_id_5e85bc34" ON "lookups_subscriptionextension" ("approved_by_id");
CREATE INDEX "extension_agent_created" ON "lookups_subscriptionextension" ("agent_id", "created_at" DESC);
CREATE INDEX "lookups_refundrequest_transaction_id_f0fd3dd6" ON "lookups_refundrequest" ("transaction_id");
CREATE INDEX "lookups_refundrequest_original_transaction_id_6f084e1e" ON "lookups_refundrequest" ("original_transaction_id");
CREATE INDEX "lookups_refundrequest_deadline_f01b0b67" ON "lookups_refundrequest" ("deadline");
CREATE INDEX "lookups_refundrequest_status_eb7eda6b" ON "lookups_refundrequest" ("status");
CREATE INDEX "lookups_refundrequest_created_at_9c7d3d1f" ON "lookups_refundrequest" ("created_at");
CREATE INDEX "lookups_refundrequest_account_id_d1721403" ON "lookups_refundrequest" ("account_id");
CREATE INDEX "lookups_consumptionanswerfollowup_next_send_at_d54d67f1" ON "lookups_consumptionanswerfollowup" ("next_check_at");
CREATE UNIQUE INDEX "consumptionanswer_one_pending_per_case" ON "lookups_consumptionanswer" ("refund_request_id") WHERE "outcome" = 'pending';
CREATE INDEX "lookups_consumptionanswer_created_at_64e4e2e5" ON "lookups_consumptionanswer" ("created_at");
CREATE INDEX "lookups_consumptionanswer_outcome_cfda4156" ON "lookups_consumptionanswer" ("outcome");
CREATE INDEX "lookups_consumptionanswer_answered_by_id_28f1fdac" ON "lookups_consumptionanswer" ("answered_by_id");
CREATE INDEX "lookups_consumptionanswer_refund_request_id_6328bb47" ON "lookups_consumptionanswer" ("refund_request_id");
CREATE TRIGGER lookups_consumptionanswer_inserted_pending
    BEFORE INSERT ON lookups_consumptionanswer
    FOR EACH ROW WHEN NEW.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'INSERT refused on lookups_consumptionanswer: an answer is written pending and joins the chain only by settling'); END;
CREATE TRIGGER lookups_consumptionanswer_settled_rows_stay
    BEFORE UPDATE ON lookups_consumptionanswer
    FOR EACH ROW WHEN OLD.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_consumptionanswer: settled rows of the audit log never change'); END;
CREATE TRIGGER lookups_consumptionanswer_settles_at_the_head
    BEFORE UPDATE ON lookups_consumptionanswer
    FOR EACH ROW WHEN OLD.outcome = 'pending' AND NEW.outcome <> 'pending' AND NOT EXISTS (SELECT 1 FROM lookups_auditchainhead WHERE id = 1 AND last_sequence = NEW.chain_sequence AND last_hash = NEW.chain_hash)
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_consumptionanswer: a row settles only where the chain head now is'); END;
CREATE TRIGGER lookups_consumptionanswer_never_deleted
    BEFORE DELETE ON lookups_consumptionanswer
    FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM lookups_auditlogflush)
    BEGIN SELECT RAISE(ABORT, 'DELETE refused on lookups_consumptionanswer: the audit log is append-only'); END;
CREATE TRIGGER lookups_refusedlink_never_changed
    BEFORE UPDATE ON lookups_refusedlink
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_refusedlink: a refused link is never changed'); END;
CREATE TRIGGER lookups_refusedlink_never_deleted
    BEFORE DELETE ON lookups_refusedlink
    FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM lookups_auditlogflush)
    BEGIN SELECT RAISE(ABORT, 'DELETE refused on lookups_refusedlink: the audit log is append-only'); END;
CREATE TRIGGER lookups_transferrequest_inserted_open
    BEFORE INSERT ON lookups_transferrequest
    FOR EACH ROW WHEN NEW.status <> 'open'
    BEGIN SELECT RAISE(ABORT, 'INSERT refused on lookups_transferrequest: a transfer request is written open'); END;
CREATE TRIGGER lookups_transferrequest_never_deleted
    BEFORE DELETE ON lookups_transferrequest
    FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM lookups_auditlogflush)
    BEGIN SELECT RAISE(ABORT, 'DELETE refused on lookups_transferrequest: the audit log is append-only'); END;
CREATE INDEX "purchase_by_order" ON "lookups_purchase" ("environment", "order_id");
CREATE INDEX "lookups_subscriptionextensionfollowup_next_check_at_8af5b777" ON "lookups_subscriptionextensionfollowup" ("next_check_at");
CREATE INDEX "purchase_by_token" ON "lookups_purchase" ("environment", "app_account_token");
CREATE INDEX "purchase_by_transaction" ON "lookups_purchase" ("environment", ((CASE WHEN JSON_TYPE("latest_transaction", '$."transactionId"') IN ('true','null','false') THEN JSON_TYPE("latest_transaction", '$."transactionId"') ELSE JSON_EXTRACT("latest_transaction", '$."transactionId"') END)));
CREATE INDEX "purchase_by_app_transaction" ON "lookups_purchase" ("environment", ((CASE WHEN JSON_TYPE("latest_transaction", '$."appTransactionId"') IN ('true','null','false') THEN JSON_TYPE("latest_transaction", '$."appTransactionId"') ELSE JSON_EXTRACT("latest_transaction", '$."appTransactionId"') END)));
CREATE INDEX "extension_ticket_upper" ON "lookups_subscriptionextension" ((UPPER("ticket_reference")));
CREATE INDEX "transfer_ticket_upper" ON "lookups_transferrequest" ((UPPER("ticket_reference")));
CREATE INDEX "lookups_customernote_account_id_e0b8774e" ON "lookups_customernote" ("account_id");
CREATE INDEX "lookups_customernote_author_id_2fa7ce5b" ON "lookups_customernote" ("author_id");
CREATE INDEX "lookups_customernote_edited_by_id_d01ed40f" ON "lookups_customernote" ("edited_by_id");
CREATE INDEX "lookups_customernoterevision_note_id_3952a2dd" ON "lookups_customernoterevision" ("note_id");
CREATE INDEX "lookups_customernoterevision_written_by_id_41b779ca" ON "lookups_customernoterevision" ("written_by_id");
CREATE INDEX "note_account_created" ON "lookups_customernote" ("account_id", "created_at" DESC);
CREATE INDEX "note_ticket_upper" ON "lookups_customernote" ((UPPER("ticket_reference")));
CREATE INDEX "lookups_customervisit_account_id_e478fa87" ON "lookups_customervisit" ("account_id");
CREATE INDEX "lookups_customervisit_agent_id_202e2a59" ON "lookups_customervisit" ("agent_id");
CREATE INDEX "visit_agent_latest" ON "lookups_customervisit" ("agent_id", "visited_at" DESC);
CREATE INDEX "lookups_auditcheck_started_at_c56126d2" ON "lookups_auditcheck" ("started_at");
CREATE INDEX "lookups_auditcheck_started_by_id_e0e2332d" ON "lookups_auditcheck" ("started_by_id");
CREATE INDEX "lookups_outagecompensationfollowup_next_check_at_1b4868a5" ON "lookups_outagecompensationfollowup" ("next_check_at");
CREATE INDEX "lookups_transactionfinishfollowup_next_check_at_70c74f46" ON "lookups_transactionfinishfollowup" ("next_check_at");
CREATE INDEX "lookups_outagecompensation_created_at_1c9eae20" ON "lookups_outagecompensation" ("created_at");
CREATE INDEX "lookups_outagecompensation_outcome_ed1e812a" ON "lookups_outagecompensation" ("outcome");
CREATE INDEX "lookups_outagecompensation_approved_by_id_58e89cf6" ON "lookups_outagecompensation" ("approved_by_id");
CREATE INDEX "lookups_outagecompensation_requested_by_id_6f4d03b7" ON "lookups_outagecompensation" ("requested_by_id");
CREATE UNIQUE INDEX "outage_one_pending_per_product" ON "lookups_outagecompensation" ("environment", "product_id") WHERE "outcome" = 'pending';
CREATE INDEX "lookups_transactionfinish_created_at_ceaaf143" ON "lookups_transactionfinish" ("created_at");
CREATE INDEX "lookups_transactionfinish_transaction_id_f4627dcc" ON "lookups_transactionfinish" ("transaction_id");
CREATE INDEX "lookups_transactionfinish_outcome_38776d8c" ON "lookups_transactionfinish" ("outcome");
CREATE INDEX "lookups_transactionfinish_agent_id_f28e413f" ON "lookups_transactionfinish" ("agent_id");
CREATE UNIQUE INDEX "finish_one_pending_per_transaction" ON "lookups_transactionfinish" ("environment", "transaction_id") WHERE "outcome" = 'pending';
CREATE TRIGGER lookups_outagecompensation_inserted_open
        BEFORE INSERT ON lookups_outagecompensation
        FOR EACH ROW WHEN NOT NEW.outcome IN ('awaiting_approval', 'pending')
        BEGIN SELECT RAISE(ABORT, 'INSERT refused on lookups_outagecompensation: a row is written open'); END;
CREATE TRIGGER lookups_outagecompensation_settled_rows_stay
        BEFORE UPDATE ON lookups_outagecompensation
        FOR EACH ROW WHEN NOT OLD.outcome IN ('awaiting_approval', 'pending')
        BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_outagecompensation: settled rows never change'); END;
CREATE TRIGGER lookups_outagecompensation_settles_at_the_head
        BEFORE UPDATE ON lookups_outagecompensation
        FOR EACH ROW WHEN NOT NEW.outcome IN ('awaiting_approval', 'pending') AND NOT EXISTS (SELECT 1 FROM lookups_auditchainhead WHERE id = 1 AND last_sequence = NEW.chain_sequence AND last_hash = NEW.chain_hash)
        BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_outagecompensation: settles only at the head'); END;
CREATE TRIGGER lookups_outagecompensation_never_deleted
        BEFORE DELETE ON lookups_outagecompensation
        FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM lookups_auditlogflush)
        BEGIN SELECT RAISE(ABORT, 'DELETE refused on lookups_outagecompensation: the audit log is append-only'); END;
CREATE TRIGGER lookups_transactionfinish_inserted_open
        BEFORE INSERT ON lookups_transactionfinish
        FOR EACH ROW WHEN NOT NEW.outcome IN ('pending')
        BEGIN SELECT RAISE(ABORT, 'INSERT refused on lookups_transactionfinish: a row is written open'); END;
CREATE TRIGGER lookups_transactionfinish_settled_rows_stay
        BEFORE UPDATE ON lookups_transactionfinish
        FOR EACH ROW WHEN NOT OLD.outcome IN ('pending')
        BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_transactionfinish: settled rows never change'); END;
CREATE TRIGGER lookups_transactionfinish_settles_at_the_head
        BEFORE UPDATE ON lookups_transactionfinish
        FOR EACH ROW WHEN NOT NEW.outcome IN ('pending') AND NOT EXISTS (SELECT 1 FROM lookups_auditchainhead WHERE id = 1 AND last_sequence = NEW.chain_sequence AND last_hash = NEW.chain_hash)
        BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_transactionfinish: settles only at the head'); END;
CREATE TRIGGER lookups_transactionfinish_never_deleted
        BEFORE DELETE ON lookups_transactionfinish
        FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM lookups_auditlogflush)
        BEGIN SELECT RAISE(ABORT, 'DELETE refused on lookups_transactionfinish: the audit log is append-only'); END;
CREATE INDEX "notification_received" ON "lookups_appstorenotification" ("received_at");
CREATE INDEX "purchase_learnt" ON "lookups_purchase" ("learnt_at");
CREATE INDEX "transfer_chain_sequence" ON "lookups_transferrequest" ("chain_sequence");
CREATE TRIGGER lookups_transferrequest_decided_once
    BEFORE UPDATE ON lookups_transferrequest
    FOR EACH ROW WHEN OLD.status <> 'open' OR NEW.id IS NOT OLD.id OR NEW.request_id IS NOT OLD.request_id OR NEW.requested_by_id IS NOT OLD.requested_by_id OR NEW.created_at IS NOT OLD.created_at OR NEW.environment IS NOT OLD.environment OR NEW.original_transaction_id IS NOT OLD.original_transaction_id OR NEW.product_id IS NOT OLD.product_id OR NEW.order_id IS NOT OLD.order_id OR NEW.token_before IS NOT OLD.token_before OR NEW.account_id IS NOT OLD.account_id OR NEW.ticket_reference IS NOT OLD.ticket_reference OR NEW.lookup_id IS NOT OLD.lookup_id
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_transferrequest: only the decision of an open request may be written'); END;
CREATE TRIGGER lookups_transferrequest_decided_at_the_head
    BEFORE UPDATE ON lookups_transferrequest
    FOR EACH ROW WHEN OLD.status = 'open' AND NEW.status <> 'open'
        AND NOT EXISTS (SELECT 1 FROM lookups_auditchainhead WHERE id = 1 AND last_sequence = NEW.chain_sequence AND last_hash = NEW.chain_hash)
    BEGIN SELECT RAISE(ABORT, 'UPDATE refused on lookups_transferrequest: a decision settles only where the chain head now is'); END;
CREATE UNIQUE INDEX "consumptionanswer_one_per_request_id" ON "lookups_consumptionanswer" ("request_id") WHERE "request_id" IS NOT NULL;
CREATE INDEX "purchase_unlinked_offer_code" ON "lookups_purchase" ("environment", "offer_code_told_at", "id") WHERE ("app_account_token" IS NULL AND "offer_code_told_at" IS NOT NULL);
CREATE UNIQUE INDEX "lookups_app_limited_agents_app_id_user_id_9bf900ba_uniq" ON "lookups_app_limited_agents" ("app_id", "user_id");
CREATE INDEX "lookups_app_limited_agents_app_id_7a902418" ON "lookups_app_limited_agents" ("app_id");
CREATE INDEX "lookups_app_limited_agents_user_id_895ce9b3" ON "lookups_app_limited_agents" ("user_id");
CREATE INDEX "lookups_lookup_app_id_661ccee1" ON "lookups_lookup" ("app_id");
CREATE INDEX "lookups_purchase_app_id_75780c34" ON "lookups_purchase" ("app_id");
CREATE INDEX "lookups_appstorenotification_app_id_2459acdf" ON "lookups_appstorenotification" ("app_id");
CREATE INDEX "lookups_refundrequest_app_id_52295efd" ON "lookups_refundrequest" ("app_id");
CREATE INDEX "account_name" ON "lookups_customeraccount" ("display_name");
CREATE INDEX "lookups_consumptionanswer_app_id_9e8859d2" ON "lookups_consumptionanswer" ("app_id");
CREATE INDEX "lookups_outagecompensation_app_id_e6da1e2f" ON "lookups_outagecompensation" ("app_id");
CREATE INDEX "lookups_refusedlink_app_id_e110e4ca" ON "lookups_refusedlink" ("app_id");
CREATE INDEX "lookups_subscriptionextension_app_id_28c69826" ON "lookups_subscriptionextension" ("app_id");
CREATE INDEX "lookups_tokenchange_app_id_80b5011b" ON "lookups_tokenchange" ("app_id");
CREATE INDEX "lookups_transactionfinish_app_id_a59925ab" ON "lookups_transactionfinish" ("app_id");
CREATE INDEX "lookups_transferrequest_app_id_733b7d79" ON "lookups_transferrequest" ("app_id");
CREATE INDEX "lookups_product_app_id_b03757ca" ON "lookups_product" ("app_id");
CREATE UNIQUE INDEX "product_shared" ON "lookups_product" ("product_id") WHERE "app_id" IS NULL;
CREATE UNIQUE INDEX "product_once_per_app" ON "lookups_product" ("product_id", "app_id") WHERE "app_id" IS NOT NULL;
CREATE INDEX "tokenchange_agent_created" ON "lookups_tokenchange" ("agent_id", "created_at");
CREATE INDEX "otp_static_statictoken_token_d0a51866" ON "otp_static_statictoken" ("token");
CREATE INDEX "otp_static_statictoken_device_id_74b7c7d1" ON "otp_static_statictoken" ("device_id");
CREATE INDEX "otp_static_staticdevice_user_id_7f9cff2b" ON "otp_static_staticdevice" ("user_id");
CREATE INDEX "otp_totp_totpdevice_user_id_0fb18292" ON "otp_totp_totpdevice" ("user_id");
CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date");
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('django_migrations',101);
INSERT INTO "sqlite_sequence" VALUES('django_admin_log',0);
INSERT INTO "sqlite_sequence" VALUES('django_content_type',44);
INSERT INTO "sqlite_sequence" VALUES('auth_permission',100);
INSERT INTO "sqlite_sequence" VALUES('auth_group',3);
INSERT INTO "sqlite_sequence" VALUES('auth_user',0);
INSERT INTO "sqlite_sequence" VALUES('axes_accessattempt',0);
INSERT INTO "sqlite_sequence" VALUES('axes_accesslog',0);
INSERT INTO "sqlite_sequence" VALUES('auth_group_permissions',48);
INSERT INTO "sqlite_sequence" VALUES('lookups_tokenchange',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_adaptydelivery',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_purchase',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_consumptionanswer',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_applepause',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_customernote',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_customernoterevision',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_customervisit',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_quarantinednotification',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_product',0);
INSERT INTO "sqlite_sequence" VALUES('lookups_dailytally',0);
INSERT INTO "sqlite_sequence" VALUES('otp_static_staticdevice',0);
INSERT INTO "sqlite_sequence" VALUES('otp_totp_totpdevice',0);
COMMIT;
