/** The per-instance bounds of the push hub, as configured (WS_* variables). */
export interface HubLimits {
  maxPayload: number
  maxMessagesPerSec: number
  maxBufferedBytes: number
  maxConnectionsPerIp: number
  maxConnections: number
  heartbeatMs: number
  pingMs: number
}
