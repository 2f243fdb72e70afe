import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Registered on the dev server (src/stack/temporal.ts) so the UI can filter investigations. */
export const SERVICE_SEARCH_ATTRIBUTE = defineSearchAttributeKey('BulkheadService', SearchAttributeType.KEYWORD);
export const SEVERITY_SEARCH_ATTRIBUTE = defineSearchAttributeKey('BulkheadSeverity', SearchAttributeType.KEYWORD);
export const STATUS_SEARCH_ATTRIBUTE = defineSearchAttributeKey('BulkheadStatus', SearchAttributeType.KEYWORD);
/** The sandbox name base a specialist owns: how the reaper tells orphans from live sandboxes. */
export const SANDBOX_SEARCH_ATTRIBUTE = defineSearchAttributeKey('BulkheadSandbox', SearchAttributeType.KEYWORD);
