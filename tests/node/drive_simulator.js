// Apple's Node.js App Store Server Library, unchanged but for its base URL, drives every endpoint
// of the App Store simulator and verifies every signed payload with online checks on (OCSP).
//
//   node drive_simulator.js CONFIG.json
//
// CONFIG names the simulator (url, rootDerBase64), the credentials its bearer check trusts and the
// demo IDs to use. Prints one JSON line per check ({"check", "ok", "detail"}), then a summary
// line; exits 1 when a check failed.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const crypto = require("node:crypto");
const {
  APIException,
  AppStoreServerAPIClient,
  Environment,
  ExtendReasonCode,
  GetTransactionHistoryVersion,
  Order,
  ProductType,
  SignedDataVerifier,
  VerificationException,
  VerificationStatus,
} = require("@apple/app-store-server-library");

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ids = config.ids;
const results = [];

function appleClient() {
  const client = new AppStoreServerAPIClient(
    config.privateKeyPem,
    config.keyId,
    config.issuerId,
    config.bundleId,
    Environment.PRODUCTION,
  );
  // The only change: where the requests go. Everything else is Apple's.
  client.urlBase = config.url;
  return client;
}

function onlineVerifier() {
  return new SignedDataVerifier(
    [Buffer.from(config.rootDerBase64, "base64")],
    true,
    Environment.PRODUCTION,
    config.bundleId,
    config.appAppleId,
  );
}

const client = appleClient();
const verifier = onlineVerifier();

async function check(name, body) {
  try {
    const detail = await body();
    results.push({ check: name, ok: true, detail: detail ?? "" });
  } catch (error) {
    const detail =
      error instanceof APIException
        ? `APIException ${error.httpStatusCode} ${error.apiError} ${error.errorMessage}`
        : error instanceof VerificationException
          ? `VerificationException ${VerificationStatus[error.status]}`
          : String(error && error.stack ? error.stack : error);
    results.push({ check: name, ok: false, detail });
  }
}

async function refused(call, status, code) {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof APIException)) throw error;
    assert.equal(error.httpStatusCode, status, `HTTP ${error.httpStatusCode}`);
    assert.equal(error.apiError, code, `errorCode ${error.apiError}`);
    return `${status} ${code} ${error.errorMessage}`;
  }
  throw new Error(`expected ${status} ${code}, the call succeeded`);
}

async function control(path, body) {
  const response = await fetch(config.url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, `${path} answered ${response.status}`);
  return response.json();
}

async function verifyAll(signed, kind = "transaction") {
  const decode = {
    transaction: (s) => verifier.verifyAndDecodeTransaction(s),
    renewal: (s) => verifier.verifyAndDecodeRenewalInfo(s),
    notification: (s) => verifier.verifyAndDecodeNotification(s),
    app: (s) => verifier.verifyAndDecodeAppTransaction(s),
  }[kind];
  const decoded = [];
  for (const item of signed) decoded.push(await decode(item));
  return decoded;
}

const consumption = (changes) => ({
  customerConsented: true,
  sampleContentProvided: false,
  deliveryStatus: "DELIVERED",
  ...changes,
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  await control("/simulator/settings", { mass_extension_seconds: 1 });

  await check("look up order ID", async () => {
    const answer = await client.lookUpOrderId(ids.orderOfferCode);
    assert.equal(answer.status, 0);
    const decoded = await verifyAll(answer.signedTransactions);
    assert.ok(decoded.every((t) => t.bundleId === config.bundleId));
    const unknown = await client.lookUpOrderId(ids.orderNotFound);
    assert.equal(unknown.status, 1);
    return `${decoded.length} transactions verified online`;
  });

  for (const version of [GetTransactionHistoryVersion.V1, GetTransactionHistoryVersion.V2]) {
    await check(`transaction history ${version} with paging`, async () => {
      let revision = null;
      let count = 0;
      let pages = 0;
      do {
        const page = await client.getTransactionHistory(
          ids.purchaseLongHistory,
          revision,
          { sort: Order.ASCENDING, productType: [ProductType.AUTO_RENEWABLE] },
          version,
        );
        count += (await verifyAll(page.signedTransactions)).length;
        revision = page.hasMore ? page.revision : null;
        pages += 1;
      } while (revision);
      assert.ok(pages > 1, "one page only");
      return `${count} transactions over ${pages} pages`;
    });
  }

  await check("transaction info", async () => {
    const answer = await client.getTransactionInfo(ids.creditsUnfinished);
    const [decoded] = await verifyAll([answer.signedTransactionInfo]);
    assert.equal(decoded.transactionId, ids.creditsUnfinished);
  });

  await check("subscription statuses and renewal info", async () => {
    const answer = await client.getAllSubscriptionStatuses(ids.offerCodeOriginal);
    const items = answer.data.flatMap((group) => group.lastTransactions);
    await verifyAll(items.map((i) => i.signedTransactionInfo));
    await verifyAll(
      items.map((i) => i.signedRenewalInfo),
      "renewal",
    );
    return `${items.length} subscriptions`;
  });

  await check("refund history carries revocationPercentage", async () => {
    const answer = await client.getRefundHistory(ids.purchaseRefunded, null);
    const decoded = await verifyAll(answer.signedTransactions);
    const refunded = decoded.find((t) => t.transactionId === ids.purchaseRefunded);
    assert.ok(refunded, "the refunded purchase is missing");
    assert.equal(refunded.revocationType, "REFUND_FULL");
    assert.equal(refunded.revocationPercentage, 100000);
  });

  await check("set app account token leaves the original alone", async () => {
    const token = crypto.randomUUID();
    await client.setAppAccountToken(ids.offerCodeOriginal, { appAccountToken: token });
    const latest = await client.getTransactionInfo(ids.offerCodeLatest);
    const original = await client.getTransactionInfo(ids.offerCodeOriginal);
    const [latestDecoded, originalDecoded] = await verifyAll([
      latest.signedTransactionInfo,
      original.signedTransactionInfo,
    ]);
    assert.equal(latestDecoded.appAccountToken, token);
    assert.notEqual(originalDecoded.appAccountToken, token);
    return await refused(
      () => client.setAppAccountToken(ids.familyShared, { appAccountToken: token }),
      400,
      4000185,
    );
  });

  await check("extend a subscription renewal date", async () => {
    const answer = await client.extendSubscriptionRenewalDate(ids.offerCodeOriginal, {
      extendByDays: 3,
      extendReasonCode: ExtendReasonCode.SERVICE_ISSUE_OR_OUTAGE,
      requestIdentifier: crypto.randomUUID(),
    });
    assert.equal(answer.success, true);
  });

  const v2Rules = [
    ["a percentage with an undelivered item", ids.consumable, { deliveryStatus: "UNDELIVERED_OTHER", consumptionPercentage: 5000 }, 400, 4000000],
    ["a percentage on an auto-renewable subscription", ids.offerCodeOriginal, { consumptionPercentage: 1000 }, 400, 4000209],
    ["GRANT_PRORATED with a percentage of 0", ids.nonConsumable, { refundPreference: "GRANT_PRORATED", consumptionPercentage: 0 }, 400, 4000000],
    ["a percentage out of range", ids.consumable, { consumptionPercentage: 100001 }, 400, 4000000],
    ["an unknown refund preference", ids.consumable, { refundPreference: "MAYBE" }, 400, 4000044],
    ["a family-shared transaction", ids.familyShared, {}, 400, 4000185],
    ["an appTransactionId", ids.appTransactionId, {}, 400, 4000048],
  ];
  for (const [name, transactionId, changes, status, code] of v2Rules) {
    await check(`consumption V2 refuses ${name}`, () =>
      refused(
        () => client.sendConsumptionInformation(transactionId, consumption(changes)),
        status,
        code,
      ),
    );
  }
  await check("consumption V2 accepts a valid body", async () => {
    await client.sendConsumptionInformation(
      ids.nonConsumable,
      consumption({ refundPreference: "GRANT_PRORATED", consumptionPercentage: 25000 }),
    );
  });

  const v1Body = {
    customerConsented: true,
    consumptionStatus: 1,
    platform: 1,
    sampleContentProvided: false,
    deliveryStatus: 0,
    appAccountToken: "",
    accountTenure: 2,
    playTime: 3,
    lifetimeDollarsRefunded: 0,
    lifetimeDollarsPurchased: 1,
    userStatus: 1,
    refundPreference: 2,
  };
  await check("consumption V1", async () => {
    await client.sendConsumptionData(ids.consumable, v1Body);
    return await refused(
      () => client.sendConsumptionData(ids.consumable, { ...v1Body, platform: 7 }),
      400,
      4000039,
    );
  });

  await check("app transaction info", async () => {
    const answer = await client.getAppTransactionInfo(ids.creditsUnfinished);
    const [app] = await verifyAll([answer.signedAppTransactionInfo], "app");
    assert.equal(app.appTransactionId, ids.appTransactionId);
    assert.ok(app.originalPlatform && app.originalApplicationVersion && app.originalPurchaseDate);
    return `${app.originalPlatform} ${app.originalApplicationVersion}`;
  });

  await check("finish transaction", async () => {
    await client.finishTransaction(ids.creditsUnfinished);
    return await refused(() => client.finishTransaction(ids.appTransactionId), 400, 4000048);
  });

  await check("mass extension runs in the background to its summary", async () => {
    const requestIdentifier = crypto.randomUUID();
    const answer = await client.extendRenewalDateForAllActiveSubscribers({
      extendByDays: 2,
      extendReasonCode: ExtendReasonCode.SERVICE_ISSUE_OR_OUTAGE,
      requestIdentifier,
      productId: ids.proMonthly,
    });
    assert.equal(answer.requestIdentifier, requestIdentifier);
    let status = await client.getStatusOfSubscriptionRenewalDateExtensions(
      requestIdentifier,
      ids.proMonthly,
    );
    assert.equal(status.complete, false);
    for (let n = 0; n < 100 && !status.complete; n++) {
      await sleep(100);
      status = await client.getStatusOfSubscriptionRenewalDateExtensions(
        requestIdentifier,
        ids.proMonthly,
      );
    }
    assert.equal(status.complete, true, "never completed");
    assert.ok(status.succeededCount > 0 && status.failedCount > 0);
    const history = await client.getNotificationHistory(null, {
      startDate: Date.now() - 3600000,
      endDate: Date.now() + 60000,
      notificationType: "RENEWAL_EXTENSION",
      notificationSubtype: "SUMMARY",
    });
    const notifications = await verifyAll(
      history.notificationHistory.map((item) => item.signedPayload),
      "notification",
    );
    const summary = notifications.map((n) => n.summary).find((s) => s.requestIdentifier === requestIdentifier);
    assert.ok(summary, "no SUMMARY notification");
    assert.equal(summary.succeededCount, status.succeededCount);
    assert.equal(summary.failedCount, status.failedCount);
    await refused(
      () => client.getStatusOfSubscriptionRenewalDateExtensions(crypto.randomUUID(), ids.proMonthly),
      404,
      4040009,
    );
    return `${status.succeededCount} extended, ${status.failedCount} failed`;
  });

  await check("notification history: every page has a token, every payload verifies", async () => {
    let paginationToken = null;
    let count = 0;
    let pages = 0;
    const request = { startDate: Date.now() - 3600000, endDate: Date.now() + 60000 };
    do {
      const page = await client.getNotificationHistory(paginationToken, request);
      assert.ok(page.paginationToken, "a page without paginationToken");
      count += (await verifyAll(page.notificationHistory.map((i) => i.signedPayload), "notification")).length;
      paginationToken = page.hasMore ? page.paginationToken : null;
      pages += 1;
    } while (paginationToken);
    return `${count} notifications over ${pages} pages`;
  });

  await check("test notification without a URL, and an invalid token", async () => {
    await refused(() => client.requestTestNotification(), 404, 4040007);
    return await refused(() => client.getTestNotificationStatus("not-a-token"), 400, 4000020);
  });

  await check("an unknown endpoint answers with an error body", async () =>
    refused(() => client.makeRequest("/inApps/v1/nothing/here", "GET", {}, null, null, undefined), 404, 4040000),
  );

  await check("rate limit: the eleventh lookup in a second is refused", async () => {
    await control("/simulator/settings", { rate_limit_window_seconds: 1 });
    await sleep(1100);
    try {
      for (let n = 0; n < 10; n++) await client.lookUpOrderId(ids.orderOfferCode);
      return await refused(() => client.lookUpOrderId(ids.orderOfferCode), 429, 4290000);
    } finally {
      await control("/simulator/settings", { rate_limit_window_seconds: 3600, rate_limits: true });
    }
  });

  await check("a revoked leaf is refused by online checks", async () => {
    const answer = await client.getTransactionInfo(ids.creditsUnfinished);
    await control("/simulator/faults", {
      kind: "revoked_certificate",
      endpoint: "ocsp",
      target: "leaf",
      times: 5,
    });
    try {
      await onlineVerifier().verifyAndDecodeTransaction(answer.signedTransactionInfo);
    } catch (error) {
      assert.ok(error instanceof VerificationException, String(error));
      return VerificationStatus[error.status];
    } finally {
      await fetch(config.url + "/simulator/faults", { method: "DELETE" });
    }
    throw new Error("a revoked leaf was trusted");
  });

  const failed = results.filter((r) => !r.ok).length;
  for (const result of results) console.log(JSON.stringify(result));
  console.log(JSON.stringify({ checks: results.length, failed }));
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
