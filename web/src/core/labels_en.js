// English names of the sonla-2026 tables and fields, for the English half of checkOps messages.
// Schema files carry only Vietnamese labels (docs/schema-format.md §3–4); a schema this map does
// not know falls back to the field's name ("recorded_on" -> "Recorded on").
export const EN_LABELS = {
  'sonla-2026': {
    unit: { _table: 'Commune or ward', code: 'Unit code', name: 'Name', type: 'Type', valid_from: 'Valid from' },
    unit_code_change: {
      _table: 'Unit code changes before 2025', old_code: 'Old code', old_name: 'Old name', old_district: 'Old district',
      new_code: 'New code', action: 'Arrangement',
    },
    task_group: { _table: 'Task group', code: 'Code', number: 'Number', title: 'Task group' },
    task: {
      _table: 'Task', code: 'Code', task_group: 'Task group', title: 'Task', lead: 'Lead agency', implements: 'Implementing document',
      deadline: 'Deadline', units: 'Implementing units (codes)', text: 'Full wording of the task',
    },
    indicator: {
      _table: 'Indicator', code: 'Indicator code', task: 'Task', title: 'Indicator', kind: 'Kind', comparator: 'Comparison',
      target: 'Target', target_max: 'Maximum target', measure: 'Unit of measure', start: 'Start', deadline: 'Deadline',
      applies_to: 'Applies to', note: 'Note',
    },
    indicator_unit: { _table: 'Units an indicator applies to', indicator: 'Indicator', unit_code: 'Unit' },
    reporting_period: {
      _table: 'Reporting period', code: 'Period', kind: 'Period kind', year: 'Year', starts: 'From', ends: 'To',
      unit_due: 'Due date for communes, wards and departments', finance_due: 'Due date for the Department of Finance',
    },
    progress_report: {
      _table: 'Progress report', unit_code: 'Unit', indicator: 'Indicator', task: 'Task', period: 'Reporting period',
      value: 'Result', progress: 'Progress', narrative: 'What was done', difficulties: 'Difficulties',
      proposals: 'Proposals', evidence: 'Evidence photo', author: 'Reported by', recorded_on: 'Recorded on',
      status: 'Status', review_comment: 'Review comment', reviewed_by: 'Reviewed by', device: 'Device',
      recorded_at: 'Recorded at (UTC)', measure: 'Unit of measure',
    },
    review: {
      _table: 'Review', report: 'Report', unit_code: 'Unit', decision: 'Decision', comment: 'Comment', reviewer: 'Reviewer',
      reviewed_on: 'Review date',
    },
    comment: { _table: 'Comment', report: 'Report', unit_code: 'Unit', body: 'Text', author: 'Written by', written_on: 'Date' },
    evidence: { _table: 'Evidence', report: 'Report', unit_code: 'Unit', file: 'File', caption: 'Caption', content_type: 'File type' },
  },
};

/** Words for roles and workflow states in messages (vi first). */
export const ROLE_WORDS = {
  official: { vi: 'cán bộ xã, phường', en: 'commune or ward official' },
  department: { vi: 'sở, ngành', en: 'department' },
  reviewer: { vi: 'người thẩm định', en: 'reviewer' },
  admin: { vi: 'quản trị', en: 'administrator' },
};

export const STATE_WORDS = {
  draft: { vi: 'nháp', en: 'draft' },
  submitted: { vi: 'đã gửi', en: 'submitted' },
  accepted: { vi: 'đã chấp nhận', en: 'accepted' },
  returned: { vi: 'trả lại để sửa', en: 'returned for correction' },
};
