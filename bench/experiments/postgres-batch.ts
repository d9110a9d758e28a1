/**
 * `--livecut-import bench/experiments/postgres-batch.ts`: livecut-bff whose PostgreSQL audit
 * store writes each group-commit batch in four round trips (postgres-batch-store.ts).
 */
import { swapStoreModule } from './swap-store-module.ts'

swapStoreModule('postgres-audit-store', new URL('./postgres-batch-store.ts', import.meta.url).href)
