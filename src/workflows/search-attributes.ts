import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Registered on the dev server (SEARCH_ATTRIBUTE_KEYS below) so the UI can filter investigations. */
export const SERVICE_SEARCH_ATTRIBUTE = defineSearchAttributeKey('BulkheadService', SearchAttributeType.KEYWORD);
export const SEVERITY_SEARCH_ATTRIBUTE = defineSearchAttributeKey('BulkheadSeverity', SearchAttributeType.KEYWORD);
export const STATUS_SEARCH_ATTRIBUTE = defineSearchAttributeKey('BulkheadStatus', SearchAttributeType.KEYWORD);
/** The sandbox name base a specialist owns: how the reaper tells orphans from live sandboxes. */
export const SANDBOX_SEARCH_ATTRIBUTE = defineSearchAttributeKey('BulkheadSandbox', SearchAttributeType.KEYWORD);

/** Every key above: what the dev server registers (src/stack/temporal.ts). */
export const SEARCH_ATTRIBUTE_KEYS = [SERVICE_SEARCH_ATTRIBUTE, SEVERITY_SEARCH_ATTRIBUTE, STATUS_SEARCH_ATTRIBUTE, SANDBOX_SEARCH_ATTRIBUTE];
