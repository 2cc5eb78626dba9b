//! Administrator endpoints and staff sign-in.

use gradphoto_api::admin::{
    AdminSchool, CodeUnbound, CodesIssueRequest, CodesIssued, PasswordReset, PolicyUpdate,
    PolicyVersionView, ProgressPage, ProgressQuery, RosterCheck, RosterImported, SchoolPolicyView,
    SchoolProgress, StaffAccount, StaffChange,
};
use gradphoto_api::common::{LoginRequest, LoginResponse, SignedOut, StaffUser};
use reqwest::Method;

use crate::{seg, Client, ClientResult, Downloaded};

impl Client {
    /// Signs in and keeps the token in this client.
    pub async fn login(&mut self, username: &str, password: &str) -> ClientResult<LoginResponse> {
        let response: LoginResponse = self
            .post(
                "/api/auth/login",
                &LoginRequest {
                    username: username.to_string(),
                    password: password.to_string(),
                },
            )
            .await?;
        self.token = Some(response.token.clone());
        Ok(response)
    }

    pub async fn logout(&mut self) -> ClientResult<()> {
        let _: SignedOut = self.post_empty("/api/auth/logout").await?;
        self.token = None;
        Ok(())
    }

    pub async fn me(&self) -> ClientResult<StaffUser> {
        self.get("/api/auth/me").await
    }

    /// Checks a roster CSV (UTF-8 or GBK, zh or en headers) without importing it.
    pub async fn roster_check(&self, csv: Vec<u8>) -> ClientResult<RosterCheck> {
        Client::json(
            self.request(Method::POST, "/api/admin/roster/check")?
                .header(reqwest::header::CONTENT_TYPE, "text/csv")
                .body(csv),
        )
        .await
    }

    /// Imports a roster CSV: all rows or none.
    pub async fn roster_import(&self, csv: Vec<u8>) -> ClientResult<RosterImported> {
        Client::json(
            self.request(Method::POST, "/api/admin/roster/import")?
                .header(reqwest::header::CONTENT_TYPE, "text/csv")
                .body(csv),
        )
        .await
    }

    /// Frees a student's code from the browser that claimed it.
    pub async fn unbind_code(&self, case_id: &str) -> ClientResult<CodeUnbound> {
        self.post_empty(&format!("/api/admin/cases/{}/unbind", seg(case_id)))
            .await
    }

    /// The staff accounts this administrator manages.
    pub async fn staff_accounts(&self) -> ClientResult<Vec<StaffAccount>> {
        self.get("/api/admin/users").await
    }

    /// Disables or enables an account, or changes its role.
    pub async fn change_staff(
        &self,
        user_id: &str,
        change: &StaffChange,
    ) -> ClientResult<StaffAccount> {
        self.post(&format!("/api/admin/users/{}", seg(user_id)), change)
            .await
    }

    /// A new password for an account (shown once); its sessions end.
    pub async fn reset_staff_password(&self, user_id: &str) -> ClientResult<PasswordReset> {
        self.post_empty(&format!("/api/admin/users/{}/password", seg(user_id)))
            .await
    }

    /// The schools this administrator manages.
    pub async fn admin_schools(&self) -> ClientResult<Vec<AdminSchool>> {
        self.get("/api/admin/schools").await
    }

    /// A school's policy as it stands, with its version.
    pub async fn school_policy(&self, school_id: &str) -> ClientResult<SchoolPolicyView> {
        self.get(&format!("/api/admin/schools/{}/policy", seg(school_id)))
            .await
    }

    /// Replaces a school's policy, made on the version `update.on_version`.
    pub async fn set_school_policy(
        &self,
        school_id: &str,
        update: &PolicyUpdate,
    ) -> ClientResult<SchoolPolicyView> {
        self.put(
            &format!("/api/admin/schools/{}/policy", seg(school_id)),
            update,
        )
        .await
    }

    /// Every version of a school's policy, the newest first.
    pub async fn policy_versions(&self, school_id: &str) -> ClientResult<Vec<PolicyVersionView>> {
        self.get(&format!(
            "/api/admin/schools/{}/policy/versions",
            seg(school_id)
        ))
        .await
    }

    /// Where every student of a school stands, per stage and per college, major and level.
    pub async fn school_progress(&self, school_id: &str) -> ClientResult<SchoolProgress> {
        self.get(&format!("/api/admin/schools/{}/progress", seg(school_id)))
            .await
    }

    /// A page of the students behind a progress count.
    pub async fn progress_students(
        &self,
        school_id: &str,
        query: &ProgressQuery,
    ) -> ClientResult<ProgressPage> {
        self.get_query(
            &format!("/api/admin/schools/{}/progress/students", seg(school_id)),
            query,
        )
        .await
    }

    /// The whole list behind a progress count as CSV (UTF-8 with BOM; `after` and `limit`
    /// are ignored).
    pub async fn progress_csv(
        &self,
        school_id: &str,
        query: &ProgressQuery,
    ) -> ClientResult<Downloaded> {
        self.get_bytes_query(
            &format!(
                "/api/admin/schools/{}/progress/students.csv",
                seg(school_id)
            ),
            query,
        )
        .await
    }

    /// Codes for every student of a school without one, or (re-)issued for one student.
    pub async fn issue_codes(
        &self,
        school_id: &str,
        req: &CodesIssueRequest,
    ) -> ClientResult<CodesIssued> {
        self.post(&format!("/api/admin/schools/{}/codes", seg(school_id)), req)
            .await
    }

    /// Printable A4 sheets (PDF) of the codes of the students `query` selects.
    pub async fn codes_sheet(
        &self,
        school_id: &str,
        query: &ProgressQuery,
    ) -> ClientResult<Downloaded> {
        self.get_bytes_query(
            &format!("/api/admin/schools/{}/codes/sheet.pdf", seg(school_id)),
            query,
        )
        .await
    }

    /// The links of the codes of the students `query` selects, as CSV (UTF-8 with BOM).
    pub async fn codes_links(
        &self,
        school_id: &str,
        query: &ProgressQuery,
    ) -> ClientResult<Downloaded> {
        self.get_bytes_query(
            &format!("/api/admin/schools/{}/codes/links.csv", seg(school_id)),
            query,
        )
        .await
    }
}
