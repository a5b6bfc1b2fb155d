/** The /api/status JSON (../api.d.ts, which the server's answer is checked against), for every script of the page. */
type StatusResponse = import('../api.js').StatusResponse;
type ChannelStatus = import('../api.js').ChannelStatus;
type GroupStatus = import('../api.js').GroupStatus;
type SinkStatus = import('../api.js').SinkStatus;
