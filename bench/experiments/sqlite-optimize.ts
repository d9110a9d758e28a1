/**
 * `--livecut-import bench/experiments/sqlite-optimize.ts`: livecut-bff whose SQLite audit
 * store opens a trail that has query-planner statistics (sqlite-optimize-store.ts).
 */
import { swapStoreModule } from './swap-store-module.ts'

swapStoreModule('sqlite-audit-store', new URL('./sqlite-optimize-store.ts', import.meta.url).href)
