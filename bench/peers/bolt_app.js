// The Bolt JS peer of `make bench`'s peers section: a minimal app on Bolt's HTTPReceiver (its
// documented HTTP server), request signature verification on. It answers `/sev` with the same
// ephemeral ack sevtool sends and acks `reaction_added`; nothing is stored.
// Run: PORT=... SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=... SLACK_API_URL=... node bolt_app.js
const { App, HTTPReceiver, LogLevel } = require('@slack/bolt');

const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  endpoints: '/slack/events',
});

const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  // The token is the bench's; there is no workspace to check it against.
  tokenVerificationEnabled: false,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  logLevel: LogLevel.ERROR,
});

app.command('/sev', async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'Filing a SEV3 SEV…' });
});

app.event('reaction_added', async () => {});

(async () => {
  await app.start(Number(process.env.PORT));
  console.log('listening');
})();
