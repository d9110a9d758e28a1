/**
 * `--livecut-import bench/experiments/sqlite-optimize.ts`: livecut-bff whose SQLite audit
 * store opens a trail that has query-planner statistics (sqlite-optimize-store.ts).
 */
import { swapSqliteStore } from './swap-sqlite-store.ts'

swapSqliteStore(new URL('./sqlite-optimize-store.ts', import.meta.url).href)
